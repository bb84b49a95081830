using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Observatoire.Data;

/// <summary>
/// Applies the SQL files of <c>migrations/</c> (embedded in the assembly) in name order, each once,
/// each in its own transaction, under an advisory lock so two processes never migrate together.
/// </summary>
public static class Migrator
{
    const long LockKey = 0x0B5E_4A70; // arbitrary, constant: the advisory lock of migrations

    public static IReadOnlyList<(string Name, string Sql)> Scripts()
    {
        var asm = typeof(Migrator).Assembly;
        return asm.GetManifestResourceNames()
            .Where(n => n.StartsWith("migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var s = asm.GetManifestResourceStream(n)!;
                using var r = new StreamReader(s, Encoding.UTF8);
                return (n["migrations/".Length..], r.ReadToEnd());
            })
            .ToList();
    }

    /// <returns>The names of the files applied by this call.</returns>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource db, TextWriter? log = null, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecAsync("select pg_advisory_lock(" + LockKey + ")", ct);
        try
        {
            await conn.ExecAsync("""
                create table if not exists schema_migrations (
                    name text primary key, checksum text not null, applied_at timestamptz not null default now())
                """, ct);
            var applied = new Dictionary<string, string>();
            await using (var cmd = new NpgsqlCommand("select name, checksum from schema_migrations", conn))
            await using (var rd = await cmd.ExecuteReaderAsync(ct))
                while (await rd.ReadAsync(ct)) applied[rd.GetString(0)] = rd.GetString(1);

            var done = new List<string>();
            foreach (var (name, sql) in Scripts())
            {
                var sum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"))));
                if (applied.TryGetValue(name, out var old))
                {
                    if (old != sum)
                        throw new InvalidOperationException(
                            $"La migration {name} a été modifiée après avoir été appliquée : ajoutez un nouveau fichier plutôt que de la changer.");
                    continue;
                }
                log?.WriteLine($"  migration {name}…");
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(sql, conn, tx)) await cmd.ExecuteNonQueryAsync(ct);
                await using (var cmd = new NpgsqlCommand("insert into schema_migrations(name, checksum) values ($1, $2)", conn, tx))
                {
                    cmd.Parameters.AddWithValue(name);
                    cmd.Parameters.AddWithValue(sum);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(name);
            }
            // Types created by a migration (PostGIS) must be known to connections opened afterwards.
            if (done.Count > 0) await conn.ReloadTypesAsync(ct);
            return done;
        }
        finally
        {
            await conn.ExecAsync("select pg_advisory_unlock(" + LockKey + ")", CancellationToken.None);
        }
    }
}
