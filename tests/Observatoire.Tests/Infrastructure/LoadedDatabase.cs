using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Import;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// One test database per test run, migrated and loaded with the bundled real data by the same code
/// path as <c>scripts/run.sh</c>; dropped at the end. Shared by the tests of the "loaded" collection,
/// which run one after the other (some re-import into it).
/// </summary>
public sealed class LoadedDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public string ImportLog { get; private set; } = "";
    WebApplicationFactory<Program>? factory;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestEnvironment.CreateDatabaseAsync("loaded");
        DataSource = Database.CreateDataSource(ConnectionString);
        var log = new StringWriter();
        await Migrator.MigrateAsync(DataSource, log);
        await BundledData.LoadAsync(DataSource, TestEnvironment.DataDir, log);
        ImportLog = log.ToString();
    }

    /// <summary>The application, in-process, on this database.</summary>
    public WebApplicationFactory<Program> App => factory ??= new WebApplicationFactory<Program>()
        .WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:Observatoire", ConnectionString)
            // The tests share a loaded 2-core machine where a 300 ms OData query can take 10 s: a wide
            // budget keeps them about answers; the budget's own test sets a short one.
            .UseSetting("OData:RequestBudgetSeconds", "120"));

    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        var v = await cmd.ExecuteScalarAsync();
        return (T)Convert.ChangeType(v, typeof(T))!;
    }

    public Task<List<object?[]>> RowsAsync(string sql, params object[] args) => DataSource.RowsAsync(sql, args);

    public async Task DisposeAsync()
    {
        if (factory is not null) await factory.DisposeAsync();
        await DataSource.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(ConnectionString);
    }
}

[CollectionDefinition(Name)]
public sealed class LoadedCollection : ICollectionFixture<LoadedDatabase>
{
    public const string Name = "loaded database";
}
