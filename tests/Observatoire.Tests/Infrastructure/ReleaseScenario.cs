using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Map;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// For the tests of what is kept per data release (reports, OData answers): a copy of the reference data
/// with no observation, an app on it, and the two writes such a test needs — a commune seen open, written
/// as the status import writes it but behind the service's back, and a data release, as every import and
/// contribution writes one.
/// </summary>
public sealed class ReleaseScenario : IAsyncDisposable
{
    readonly string connectionString;
    readonly NpgsqlDataSource db;
    public WebApplicationFactory<Program> App { get; }

    ReleaseScenario(string connectionString)
    {
        this.connectionString = connectionString;
        db = Database.CreateDataSource(connectionString);
        App = TestApp.On(connectionString);
    }

    public static async Task<ReleaseScenario> StartAsync(string prefix) =>
        new(await TemplateDatabases.CopyOfReferenceAsync(prefix));

    /// <summary>The commune of this code seen open on 2022-10-19.</summary>
    public async Task OpenOnAsync(string communeCode)
    {
        await using var cmd = db.CreateCommand("""
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, match_method)
            select siren, id, date '2022-10-19', 'odf-2022-10-19', true, 'siren' from collectivite where type = 'COM' and code = $1
            """);
        cmd.Parameters.AddWithValue(communeCode);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    public async Task ReleaseAsync()
    {
        await using var cmd = db.CreateCommand("insert into data_release (kind, vintage, checksum) values ('status', '2022-10-19', md5(random()::text))");
        await cmd.ExecuteNonQueryAsync();
        // What an import inside the web process does; the CLI's are seen within Map:ReleaseCheckSeconds.
        await MapCache.EvictAsync(App.Services);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(connectionString);
    }
}
