using Npgsql;
using NpgsqlTypes;

namespace Observatoire.Data;

/// <summary>The two small Npgsql helpers every importer and the migrator need, in one place.</summary>
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

    /// <summary>Writes a value, or NULL, in a binary COPY row.</summary>
    public static Task WriteNullableAsync(this NpgsqlBinaryImporter w, string? value, NpgsqlDbType type, CancellationToken ct) =>
        value is null ? w.WriteNullAsync(ct) : w.WriteAsync(value, type, ct);

    /// <inheritdoc cref="WriteNullableAsync(NpgsqlBinaryImporter, string?, NpgsqlDbType, CancellationToken)"/>
    public static Task WriteNullableAsync(this NpgsqlBinaryImporter w, int? value, NpgsqlDbType type, CancellationToken ct) =>
        value is { } v ? w.WriteAsync(v, type, ct) : w.WriteNullAsync(ct);
}
