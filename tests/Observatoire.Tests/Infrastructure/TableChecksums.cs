using Npgsql;

namespace Observatoire.Tests.Infrastructure;

/// <summary>Fingerprints of every table of a database (public schema, PostGIS's own table aside).</summary>
public static class TableChecksums
{
    /// <summary>
    /// Every row's content (md5 of each row's text, in order): equal for two databases holding the same
    /// rows, e.g. a backup and its restore. Reads every geometry as text: seconds on a loaded database.
    /// </summary>
    public static Task<SortedDictionary<string, string>> OfAsync(NpgsqlDataSource db) => EachTableAsync(db, t => $"""
        select count(*) || ':' || coalesce(md5(string_agg(h, '' order by h)), '')
          from (select md5(x::text) h from "{t}" x) s
        """);

    /// <summary>
    /// Every row version (its physical address and the transaction that wrote it): equal before and after
    /// only if no insert, update or delete was committed in between, in one database. Any committed write
    /// gives a row a new version (an update too, even one that writes the same values); VACUUM and freezing
    /// keep both ctid and the raw xmin of live rows. The sum of each version's hash needs no sort (a changed
    /// version leaves the sum equal with a chance of one in four billion): 44 ms for the geometry table where
    /// an ordered md5 took 100 ms and <see cref="OfAsync"/>, which reads every geometry, seconds. So "this
    /// request changed nothing" costs almost nothing to check.
    /// </summary>
    public static Task<SortedDictionary<string, string>> RowVersionsAsync(NpgsqlDataSource db) => EachTableAsync(db, t => $"""
        select count(*) || ':' || coalesce(sum(hashtext(ctid::text || ':' || xmin::text)::bigint), 0)
          from "{t}" x
        """);

    static async Task<SortedDictionary<string, string>> EachTableAsync(NpgsqlDataSource db, Func<string, string> sql)
    {
        var tables = (await db.RowsAsync("""
            select table_name from information_schema.tables
             where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'spatial_ref_sys'
             order by table_name
            """)).Select(r => (string)r[0]!).ToList();
        var sums = new SortedDictionary<string, string>();
        foreach (var t in tables)
        {
            await using var cmd = db.CreateCommand(sql(t));
            cmd.CommandTimeout = 300;
            sums[t] = (string)(await cmd.ExecuteScalarAsync())!;
        }
        return sums;
    }
}
