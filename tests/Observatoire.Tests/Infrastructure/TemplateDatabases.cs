using Observatoire.Data;
using Observatoire.Import;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// The bundled data is loaded once per test run, by the same code path as <c>scripts/run.sh</c>
/// (<see cref="BundledData"/>), into two template databases: one with the reference list only (after
/// the reference import) and one with everything. Each fixture's database is a copy of one of them
/// (<c>CREATE DATABASE … TEMPLATE</c>, a file copy taking seconds instead of a one-minute import), so
/// fixtures are independent and their test classes run in parallel. The templates are dropped at
/// the end of the run (<see cref="TestRun"/>).
/// </summary>
public static class TemplateDatabases
{
    static readonly Lazy<Task<(string Reference, string Loaded)>> Templates = new(BuildAsync);

    /// <summary>A new database with the migrated schema and every bundled data set (as after scripts/run.sh).</summary>
    public static async Task<string> CopyOfLoadedAsync(string prefix) =>
        await TestEnvironment.CreateDatabaseAsync(prefix, (await Templates.Value).Loaded);

    /// <summary>A new database with the migrated schema and the reference list only (no status, ATD, milestones).</summary>
    public static async Task<string> CopyOfReferenceAsync(string prefix) =>
        await TestEnvironment.CreateDatabaseAsync(prefix, (await Templates.Value).Reference);

    static async Task<(string, string)> BuildAsync()
    {
        var loaded = await CreateAsync("tpl_loaded", null);
        await using (var db = Database.CreateDataSource(loaded))
        {
            await Migrator.MigrateAsync(db, TextWriter.Null);
            await new ReferenceImporter(db, TextWriter.Null).ImportAsync(ReferenceImportOptions.Bundled(TestEnvironment.DataDir));
        }
        // Disposing the data source closed its connections: nobody is connected to the source of the copy.
        var reference = await CreateAsync("tpl_reference", Name(loaded));
        await using (var db = Database.CreateDataSource(loaded))
            await BundledData.LoadAfterReferenceAsync(db, TestEnvironment.DataDir, TextWriter.Null);
        return (Name(reference), Name(loaded));
    }

    static async Task<string> CreateAsync(string prefix, string? template)
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(prefix, template);
        TestRun.DropAtEnd(cs);
        return cs;
    }

    static string Name(string connectionString) => new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
}
