using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// A test database holding the bundled real data (a copy of the loaded template,
/// <see cref="TemplateDatabases"/>), with the application on it.
/// </summary>
public abstract class TestDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    WebApplicationFactory<Program>? factory;
    Lazy<Task<Browser.MapSite>>? site;

    protected abstract Task<(string ConnectionString, NpgsqlDataSource DataSource)> OpenAsync();

    public async Task InitializeAsync() => (ConnectionString, DataSource) = await OpenAsync();

    /// <summary>The application, in-process, on this database.</summary>
    public WebApplicationFactory<Program> App => factory ??= TestApp.On(ConnectionString);

    /// <summary>
    /// The application on a real port with the run's Chromium, for the browser tests: one per database,
    /// started at first use and kept for every class on it (their tests run one after the other).
    /// </summary>
    public Task<Browser.MapSite> SiteAsync() => (site ??= new(() => Browser.MapSite.StartAsync(this))).Value;

    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        var v = await cmd.ExecuteScalarAsync();
        return (T)Convert.ChangeType(v, typeof(T))!;
    }

    public Task<List<object?[]>> RowsAsync(string sql, params object[] args) => DataSource.RowsAsync(sql, args);

    /// <summary>
    /// The status runs the triggers keep (incrementally, from the earliest day each statement changed:
    /// migration 016) are those a full recomputation from every observation gives.
    /// </summary>
    public async Task AssertStatusRunsAreCurrentAsync()
    {
        var differing = await ScalarAsync<long>("""
            with kept as (select * from status_period), full_ as (select * from status_periods_of(array(select id from collectivite)))
            select (select count(*) from (select * from kept except all select * from full_) a)
                 + (select count(*) from (select * from full_ except all select * from kept) b)
            """);
        Assert.Equal(0, differing);
    }

    public virtual async Task DisposeAsync()
    {
        if (site is { IsValueCreated: true }) await (await site.Value).DisposeAsync();
        if (factory is not null) await factory.DisposeAsync();
    }
}

/// <summary>
/// A database of its own for one test class (a class fixture), dropped after it: for the classes
/// that re-import or change rows, which then run in parallel with the others without being seen.
/// </summary>
public abstract class OwnDatabase : TestDatabase
{
    protected abstract Task<string> CopyAsync();

    protected override async Task<(string, NpgsqlDataSource)> OpenAsync()
    {
        var cs = await CopyAsync();
        return (cs, Database.CreateDataSource(cs));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await DataSource.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(ConnectionString);
    }
}

/// <summary>Every bundled data set, as after <c>scripts/run.sh</c>.</summary>
public sealed class LoadedDatabase : OwnDatabase
{
    protected override Task<string> CopyAsync() => TemplateDatabases.CopyOfLoadedAsync("loaded");
}

/// <summary>The reference list only (no status, ATD, milestones): for the classes that re-import it.</summary>
public sealed class ReferenceDatabase : OwnDatabase
{
    protected override Task<string> CopyAsync() => TemplateDatabases.CopyOfReferenceAsync("reference");
}

/// <summary>
/// One database shared by every test class that only reads (a class fixture over a single copy made
/// for the whole run, dropped at its end): a class that writes takes a <see cref="LoadedDatabase"/>.
/// </summary>
public sealed class SharedDatabase : TestDatabase
{
    static readonly Lazy<Task<(string, NpgsqlDataSource)>> Shared = new(async () =>
    {
        var cs = await TemplateDatabases.CopyOfLoadedAsync("shared");
        TestRun.DropAtEnd(cs);
        return (cs, Database.CreateDataSource(cs));
    });

    protected override Task<(string, NpgsqlDataSource)> OpenAsync() => Shared.Value;
}

/// <summary>
/// The browser tests' collection (tests/Browser): a loaded database of their own, apart from the
/// other classes.
/// </summary>
[CollectionDefinition(Name)]
[LongChain(86)]
public sealed class LoadedCollection : ICollectionFixture<LoadedDatabase>
{
    public const string Name = "browser";
}
