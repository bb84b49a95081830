using System.Net;
using System.Text.Json;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

public sealed class IndicatorTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    [Fact]
    public async Task Communes_indicators_on_2022_10_19_match_an_independent_computation()
    {
        // National scope: the communes of the 101 départements (the collectivités d'outre-mer's are apart).
        var pop = Expected.CommunePopulation().Where(p => !Expected.OverseasCommunes.Contains(p.Key)).ToDictionary();
        var open = Expected.OpenCommunes(RawOdf.October).Where(pop.ContainsKey).ToHashSet();
        var client = db.App.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2022-10-19&type=COM"));
        var r = doc.RootElement;
        Assert.Equal(pop.Count, r.GetProperty("collectivites").GetInt64());
        Assert.Equal(open.Count, r.GetProperty("open").GetInt64());
        Assert.Equal(pop.Count(p => p.Value >= 3500), r.GetProperty("obliged").GetInt64());
        Assert.Equal(open.Count(c => pop[c] >= 3500), r.GetProperty("obligedOpen").GetInt64());
        Assert.Equal(open.Sum(c => pop[c]), r.GetProperty("populationInOpenCommunes").GetInt64());
        Assert.Equal(pop.Values.Sum(), r.GetProperty("population").GetInt64());
        Assert.True(r.GetProperty("observed").GetBoolean());
        Assert.Equal("2022-10-19", r.GetProperty("lastObservation").GetString());

        // Filtered by département and obliged-only.
        var dep35 = RawCog.CurrentCommunes.Where(c => (string?)c["departement"] == "35").Select(c => (string)c["code"]!).ToList();
        using var d35 = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2022-10-19&type=COM&departement=35&obliged=true"));
        Assert.Equal(dep35.Count(c => pop[c] >= 3500), d35.RootElement.GetProperty("collectivites").GetInt64());
        Assert.Equal(dep35.Count(c => pop[c] >= 3500 && open.Contains(c)), d35.RootElement.GetProperty("open").GetInt64());
    }

    [Fact]
    public async Task National_indicators_by_type_add_up_and_match_the_raw_files()
    {
        var client = db.App.CreateClient();
        using var all = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2022-10-19"));
        using var byType = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2022-10-19&by=type"));
        var rows = byType.RootElement.GetProperty("rows").EnumerateArray()
            .ToDictionary(x => x.GetProperty("key").GetString()!, x => x.GetProperty("values"));
        foreach (var p in new[] { "collectivites", "open", "obliged", "obligedOpen" })
            Assert.Equal(all.RootElement.GetProperty(p).GetInt64(), rows.Values.Sum(v => v.GetProperty(p).GetInt64()));
        var expectedCount = RawCog.CurrentCommunes.Count(c => (string?)c["zone"] != "com") + RawCog.Epci.Count + RawCog.Ept.Count
            + RawCog.Departements.Count(d => (string?)d!["zone"] != "com") + RawCog.Regions.Count(d => (string?)d!["zone"] != "com");
        Assert.Equal(expectedCount, all.RootElement.GetProperty("collectivites").GetInt64());
        Assert.Equal(Expected.OpenDepartements(RawOdf.October).Count, rows["DEP"].GetProperty("open").GetInt64());
        Assert.Equal(Expected.OpenRegions(RawOdf.October).Count, rows["REG"].GetProperty("open").GetInt64());
        Assert.Equal(Expected.OpenCommunes(RawOdf.October).Count(c => !Expected.OverseasCommunes.Contains(c)), rows["COM"].GetProperty("open").GetInt64());
    }

    [Fact]
    public async Task Progress_has_the_goal_the_milestones_the_observations_and_a_projection()
    {
        var client = db.App.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/api/progress?asOf=2026-01-01"));
        var r = doc.RootElement;
        Assert.Equal(2000, r.GetProperty("goal").GetInt32());
        Assert.Equal("2026-01-01", r.GetProperty("asOf").GetString());
        using var ind = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2026-01-01"));
        Assert.Equal(ind.RootElement.GetProperty("open").GetInt64(), r.GetProperty("open").GetInt64());
        var series = r.GetProperty("series").EnumerateArray().ToList();
        var milestones = File.ReadAllLines(Path.Combine(TestEnvironment.DataDir, "milestones.csv")).Skip(1).Count(l => l.Length > 0);
        Assert.Equal(milestones, series.Count(s => s.GetProperty("kind").GetString() == "published"));
        Assert.Equal(2, series.Count(s => s.GetProperty("kind").GetString() == "observed"));
        Assert.Equal("2022-10-19", r.GetProperty("lastObservation").GetString());
        Assert.Equal("2017-01-01", series[0].GetProperty("date").GetString());
        Assert.True(r.GetProperty("trend").GetProperty("perYear").GetDouble() > 0);
        var label = r.GetProperty("projection").GetProperty("label").GetString()!;
        Assert.True(label.StartsWith("vers ") || label.StartsWith("pas avant "), label);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("53", null)]
    [InlineData(null, "rennes-metropole")]
    public async Task Every_observed_point_of_the_series_is_the_indicators_of_its_date(string? region, string? atd)
    {
        // The series (the page's chart, the reports' progress) counts apart from the indicators, for speed: its
        // points must still be the indicators' figures on their dates, nationally, in a région and an ATD's perimeter.
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var points = (await Observatoire.Indicators.ProgressQueries.SeriesAsync(conn, new DateOnly(2026, 1, 1), region, atd, default))
            .Where(p => p.Kind == Observatoire.Indicators.ProgressKind.Observed).ToList();
        Assert.Equal(2, points.Count);
        var client = db.App.CreateClient();
        foreach (var p in points)
        {
            var scope = (region is null ? "" : "&region=" + region) + (atd is null ? "" : "&atd=" + atd);
            using var doc = JsonDocument.Parse(await client.GetStringAsync($"/api/indicators?date={p.Date:yyyy-MM-dd}{scope}"));
            var r = doc.RootElement;
            Assert.True(r.GetProperty("open").GetInt64() > 0);
            Assert.Equal((p.Date, r.GetProperty("open").GetInt64(), r.GetProperty("obliged").GetInt64(), r.GetProperty("obligedOpen").GetInt64()),
                (p.Date, (long)p.Open, (long)p.ObligedTotal!, (long)p.ObligedOpen!));
        }
    }

    [Theory]
    [InlineData("/api/indicators?type=XYZ")]
    [InlineData("/api/indicators?band=12")]
    [InlineData("/api/indicators?date=2022-02-30")]
    [InlineData("/api/indicators?obliged=peut-etre")]
    [InlineData("/api/indicators?by=couleur")]
    [InlineData("/api/progress?asOf=hier")]
    [InlineData("/api/atd/rennes-metropole/todo?limit=0")]
    public async Task Bad_parameters_are_a_400_problem_in_french(string url)
    {
        var resp = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, resp.StatusCode);
        Assert.Equal("application/problem+json", resp.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
        Assert.Equal("Paramètre invalide", doc.RootElement.GetProperty("title").GetString());
    }
}
