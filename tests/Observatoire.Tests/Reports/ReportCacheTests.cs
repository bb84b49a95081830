using Observatoire.Reports;
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

    [Fact]
    public async Task Readers_asking_at_once_for_a_report_being_rendered_wait_for_that_one_rendering()
    {
        var client = data.App.CreateClient();
        await data.OpenOnAsync("35238");
        await data.ReleaseAsync();
        using var renders = new AppCounter(data.App.Services, ReportCache.MeterName, "observatoire.reports.rendered");
        // A national PDF takes about a second to render: eight readers (the same report, spelled eight
        // ways) arrive while it is rendered.
        string[] spellings = ["", "?date=", "?date=%20", "?region=", "?atd=", "?date=&region=", "?region=%20", "?atd=%20&date="];
        var bodies = await Task.WhenAll(spellings.Select(q => client.GetByteArrayAsync("/api/reports/national.pdf" + q)));
        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
        Assert.StartsWith("%PDF", System.Text.Encoding.ASCII.GetString(bodies[0], 0, 4));
        Assert.Equal(1, renders.Value);

        // After the next release, once more: one rendering for all, with the new figures.
        await data.OpenOnAsync("29019");
        await data.ReleaseAsync();
        var csvs = await Task.WhenAll(spellings.Select(q => client.GetStringAsync("/api/reports/regions.csv" + (q == "" ? "?" : q + "&") + "format=rfc4180")));
        Assert.All(csvs, c => Assert.Equal(2, OpenInBretagne(c)));
        Assert.Equal(2, renders.Value);
    }
}
