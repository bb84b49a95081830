using Npgsql;

namespace Observatoire.Tests.Infrastructure;

/// <summary>Every row of every table of a database, fingerprinted by PostgreSQL (md5 of each row's text, in order).</summary>
public static class TableChecksums
{
    public static async Task<SortedDictionary<string, string>> OfAsync(NpgsqlDataSource db)
    {
        var tables = (await db.RowsAsync("""
            select table_name from information_schema.tables
             where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'spatial_ref_sys'
             order by table_name
            """)).Select(r => (string)r[0]!).ToList();
        var sums = new SortedDictionary<string, string>();
        foreach (var t in tables)
        {
            await using var cmd = db.CreateCommand($"""
                select count(*) || ':' || coalesce(md5(string_agg(h, '' order by h)), '')
                  from (select md5(x::text) h from "{t}" x) s
                """);
            cmd.CommandTimeout = 300;
            sums[t] = (string)(await cmd.ExecuteScalarAsync())!;
        }
        return sums;
    }
}
