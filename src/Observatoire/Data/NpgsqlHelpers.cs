using Npgsql;
using NpgsqlTypes;

namespace Observatoire.Data;

/// <summary>One column of a binary COPY: its name, its PostgreSQL type and its value in a row (null writes NULL).</summary>
public sealed record CopyColumn<T>(string Name, NpgsqlDbType Type, Func<T, object?> Value);

/// <summary>The small Npgsql helpers every importer and the migrator need, in one place.</summary>
public static class NpgsqlHelpers
{
    /// <summary>
    /// Runs SQL without results on an open connection (inside its current transaction, if any).
    /// Imports and migrations run set-based statements over the whole country: 10 minutes, not the
    /// 30 s that bound API requests.
    /// </summary>
    public static async Task ExecAsync(this NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Runs one statement with positional parameters ($1, $2…) in the request's transaction, under the
    /// connection's own timeout (the API's writes, the harvest's small statements); returns the rows affected.
    /// </summary>
    public static async Task<int> ExecAsync(this NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// <c>COPY table (columns) FROM STDIN (FORMAT BINARY)</c> of <paramref name="rows"/>, on the connection's
    /// current transaction. Each column is named once, next to the value written for it: a column list in
    /// the COPY statement and a sequence of writes kept in step by hand can drift apart silently.
    /// </summary>
    public static async Task CopyAsync<T>(this NpgsqlConnection conn, string table, IEnumerable<T> rows, CancellationToken ct, params CopyColumn<T>[] columns)
    {
        await using var w = await conn.BeginBinaryImportAsync($"copy {table} ({string.Join(", ", columns.Select(c => c.Name))}) from stdin (format binary)", ct);
        foreach (var row in rows)
        {
            await w.StartRowAsync(ct);
            foreach (var c in columns)
                if (c.Value(row) is { } v) await w.WriteAsync(v, c.Type, ct);
                else await w.WriteNullAsync(ct);
        }
        await w.CompleteAsync(ct);
    }
}
