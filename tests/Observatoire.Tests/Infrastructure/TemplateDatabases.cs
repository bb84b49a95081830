using System.Security.Cryptography;
using Npgsql;
using Observatoire.Data;
using Observatoire.Import;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// The bundled data is loaded by the same code path as <c>scripts/run.sh</c> (<see cref="BundledData"/>)
/// into two template databases: one with the reference list only (after the reference import) and one
/// with everything. Each fixture's database is a copy of one of them (<c>CREATE DATABASE … TEMPLATE</c>,
/// a file copy taking seconds instead of a two-minute load), so fixtures are independent and their test
/// classes run in parallel.
/// <para>
/// The templates are kept between runs under a name made of a hash of what they are built from: the
/// application assembly (the build is deterministic: same sources, same bytes), the migrations and the
/// bundled data. A run whose inputs are unchanged reuses them; any change to the code, a migration or a
/// file builds new ones, and the templates of other hashes are dropped. <c>OBS_TEST_FRESH_TEMPLATES=1</c>
/// rebuilds them anyway.
/// </para>
/// </summary>
public static class TemplateDatabases
{
    const string Prefix = "obs_tpl_";
    static readonly Lazy<Task<(string Reference, string Loaded)>> Templates = new(GetOrBuildAsync);

    /// <summary>A new database with the migrated schema and every bundled data set (as after scripts/run.sh).</summary>
    public static async Task<string> CopyOfLoadedAsync(string prefix) =>
        await TestEnvironment.CreateDatabaseAsync(prefix, (await Templates.Value).Loaded);

    /// <summary>A new database with the migrated schema and the reference list only (no status, ATD, milestones).</summary>
    public static async Task<string> CopyOfReferenceAsync(string prefix) =>
        await TestEnvironment.CreateDatabaseAsync(prefix, (await Templates.Value).Reference);

    static async Task<(string, string)> GetOrBuildAsync()
    {
        var key = InputsHash();
        string reference = $"{Prefix}reference_{key}", loaded = $"{Prefix}loaded_{key}";
        await using var admin = new NpgsqlConnection(TestEnvironment.AdminConnection);
        await admin.OpenAsync();
        // One builder at a time on the cluster (two suites started together, in two worktrees).
        await Exec(admin, "select pg_advisory_lock(hashtext('observatoire test templates'))");
        try
        {
            // Under the lock nobody else is building: half-built templates are leftovers of an interrupted run.
            foreach (var stale in await Names(admin, "obs_test_tpl_%"))
                await Exec(admin, $"drop database if exists \"{stale}\" with (force)");
            var existing = await Names(admin, Prefix + "%");
            var fresh = Environment.GetEnvironmentVariable("OBS_TEST_FRESH_TEMPLATES") == "1";
            foreach (var old in existing.Where(n => fresh || !n.EndsWith(key)))
                await Exec(admin, $"drop database if exists \"{old}\" with (force)");
            if (fresh || !existing.Contains(reference) || !existing.Contains(loaded))
                await BuildAsync(admin, reference, loaded);
            return (reference, loaded);
        }
        finally
        {
            await Exec(admin, "select pg_advisory_unlock(hashtext('observatoire test templates'))");
        }
    }

    /// <summary>Built under temporary names and renamed at the end: an interrupted build leaves nothing that looks usable.</summary>
    static async Task BuildAsync(NpgsqlConnection admin, string reference, string loaded)
    {
        string? building = null, referenceCopy = null;
        try
        {
            building = await TestEnvironment.CreateDatabaseAsync("tpl_building");
            await using (var db = Database.CreateDataSource(building))
            {
                await Migrator.MigrateAsync(db, TextWriter.Null);
                await new ReferenceImporter(db, TextWriter.Null).ImportAsync(ReferenceImportOptions.Bundled(TestEnvironment.DataDir));
            }
            // Disposing the data source closed its connections: nobody is connected to the source of the copy.
            referenceCopy = await TestEnvironment.CreateDatabaseAsync("tpl_reference", DatabaseName(building));
            await using (var db = Database.CreateDataSource(building))
                await BundledData.LoadAfterReferenceAsync(db, TestEnvironment.DataDir, TextWriter.Null);
            await Exec(admin, $"drop database if exists \"{reference}\" with (force)");
            await Exec(admin, $"drop database if exists \"{loaded}\" with (force)");
            await Exec(admin, $"alter database \"{DatabaseName(referenceCopy)}\" rename to \"{reference}\"");
            await Exec(admin, $"alter database \"{DatabaseName(building)}\" rename to \"{loaded}\"");
        }
        catch
        {
            foreach (var cs in new[] { referenceCopy, building }.OfType<string>()) await TestEnvironment.DropDatabaseAsync(cs);
            throw;
        }
    }

    /// <summary>12 hex digits of SHA-256 over the application assembly, the migrations and the bundled data.</summary>
    static string InputsHash()
    {
        var files = new List<string> { typeof(BundledData).Assembly.Location };
        foreach (var dir in new[] { Path.Combine(TestEnvironment.RepoRoot, "migrations"), TestEnvironment.DataDir })
            files.AddRange(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(TestEnvironment.RepoRoot, f)));
            sha.AppendData(File.ReadAllBytes(f));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..12];
    }

    static async Task<List<string>> Names(NpgsqlConnection admin, string like)
    {
        await using var cmd = new NpgsqlCommand("select datname from pg_database where datname like $1", admin) { Parameters = { new() { Value = like } } };
        await using var r = await cmd.ExecuteReaderAsync();
        var names = new List<string>();
        while (await r.ReadAsync()) names.Add(r.GetString(0));
        return names;
    }

    static async Task Exec(NpgsqlConnection admin, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, admin) { CommandTimeout = 300 };
        await cmd.ExecuteNonQueryAsync();
    }

    static string DatabaseName(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;
}
