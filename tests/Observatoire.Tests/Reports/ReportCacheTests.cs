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
    ReleaseScenario data = null!;

    public async Task InitializeAsync() => data = await ReleaseScenario.StartAsync("report-cache");
    public Task DisposeAsync() => data.DisposeAsync().AsTask();

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
        var client = data.App.CreateClient();
        await data.OpenOnAsync("35238"); // Rennes
        await data.ReleaseAsync();
        var first = await client.GetStringAsync("/api/reports/regions.csv?date=2022-10-19&format=rfc4180");
        Assert.Equal(1, OpenInBretagne(first));

        // Brest written behind the service's back, without a release: the same report, spelled differently, is
        // the one in memory.
        await data.OpenOnAsync("29019");
        Assert.Equal(first, await client.GetStringAsync("/api/reports/regions.csv?format=rfc4180&date=2022-10-19%20&region="));

        // The next release shows Brest.
        await data.ReleaseAsync();
        Assert.Equal(2, OpenInBretagne(await client.GetStringAsync("/api/reports/regions.csv?date=2022-10-19&format=rfc4180")));
    }
}
