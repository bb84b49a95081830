using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Map;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reports;

/// <summary>
/// Reports are kept per data release (Reports/ReportCache.cs): the same report, however its parameters
/// are spelled, comes from memory until the next release; a release (what every import and contribution
/// writes) brings new figures. On a copy of the reference data with no observation, so the figures here
/// are only the ones this test writes.
/// </summary>
public sealed class ReportCacheTests : IAsyncLifetime
{
    string connectionString = null!;
    NpgsqlDataSource db = null!;
    WebApplicationFactory<Program> app = null!;

    public async Task InitializeAsync()
    {
        connectionString = await TemplateDatabases.CopyOfReferenceAsync("report-cache");
        db = Database.CreateDataSource(connectionString);
        app = TestApp.On(connectionString);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(connectionString);
    }

    /// <summary>A commune seen open on 2022-10-19, written as the status import writes it.</summary>
    async Task OpenOnAsync(string communeCode)
    {
        await using var cmd = db.CreateCommand("""
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, match_method)
            select siren, id, date '2022-10-19', 'odf-2022-10-19', true, 'siren' from collectivite where type = 'COM' and code = $1
            """);
        cmd.Parameters.AddWithValue(communeCode);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    async Task ReleaseAsync()
    {
        await using var cmd = db.CreateCommand("insert into data_release (kind, vintage, checksum) values ('status', '2022-10-19', md5(random()::text))");
        await cmd.ExecuteNonQueryAsync();
        // What an import inside the web process does; the CLI's are seen within Map:ReleaseCheckSeconds.
        await MapCache.EvictAsync(app.Services);
    }

    /// <summary>Bretagne's « Ouvertes » in the régions table (RFC 4180 CSV).</summary>
    static long OpenInBretagne(string csv)
    {
        var lines = csv.TrimStart('\uFEFF').Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split(',')).ToList();
        var column = Array.IndexOf(lines[0], "Ouvertes");
        return long.Parse(lines.Single(l => l.Contains("Bretagne"))[column], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_report_comes_from_memory_until_the_next_release_however_its_parameters_are_spelled()
    {
        var client = app.CreateClient();
        await OpenOnAsync("35238"); // Rennes
        await ReleaseAsync();
        var first = await client.GetStringAsync("/api/reports/regions.csv?date=2022-10-19&format=rfc4180");
        Assert.Equal(1, OpenInBretagne(first));

        // Brest written behind the service's back, without a release: the same report, spelled differently, is
        // the one in memory.
        await OpenOnAsync("29019");
        Assert.Equal(first, await client.GetStringAsync("/api/reports/regions.csv?format=rfc4180&date=2022-10-19%20&region="));

        // The next release shows Brest.
        await ReleaseAsync();
        Assert.Equal(2, OpenInBretagne(await client.GetStringAsync("/api/reports/regions.csv?date=2022-10-19&format=rfc4180")));
    }
}
