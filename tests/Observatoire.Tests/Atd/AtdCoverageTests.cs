using System.Net;
using System.Text.Json;
using Observatoire.Tests.Infrastructure;
using Observatoire.Tests.Status;

namespace Observatoire.Tests.Atd;

public sealed class AtdCoverageTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    /// <summary>Communes of each ATD perimeter, from the raw registry and the raw COG only.</summary>
    static Dictionary<string, HashSet<string>> ExpectedCommunes()
    {
        var communes = RawCog.CurrentCommunes.ToList();
        var epciMembers = RawCog.Epci.ToDictionary(e => (string)e!["code"]!, e => e!["membres"]!.AsArray().Select(m => (string)m!["code"]!).ToHashSet());
        var result = new Dictionary<string, HashSet<string>>();
        foreach (var a in RawOdf.Atd)
        {
            var codes = a["perimeter_codes"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var set = a["perimeter_type"] switch
            {
                "region" => communes.Where(c => codes.Contains((string?)c["region"])).Select(c => (string)c["code"]!),
                "departements" => communes.Where(c => codes.Contains((string?)c["departement"])).Select(c => (string)c["code"]!),
                "epci" => codes.SelectMany(c => epciMembers[c]),
                "communes" => codes,
                _ => [],
            };
            result[a["atd_id"]] = set.Concat(RawOdf.Accompanied.Where(x => x["atd_id"] == a["atd_id"]).Select(x => x["insee"])).ToHashSet();
        }
        return result;
    }

    [Fact]
    public async Task Commune_coverage_follows_the_administrative_codes()
    {
        var expected = ExpectedCommunes();
        var actual = (await db.RowsAsync("select ac.atd_id, c.code from atd_coverage ac join collectivite c on c.id = ac.collectivite_id where c.type = 'COM'"))
            .GroupBy(r => (string)r[0]!).ToDictionary(g => g.Key, g => g.Select(r => (string)r[1]!).ToHashSet());
        foreach (var (atd, communes) in expected)
            Assert.True(communes.SetEquals(actual.GetValueOrDefault(atd) ?? []), $"couverture de {atd}");

        // A commune of a département-level ATD's département is covered by it.
        var finistere = RawOdf.Atd.Single(a => a["atd_id"] == "cd-finistere");
        var quimper = RawCog.CurrentCommunes.First(c => (string?)c["departement"] == finistere["perimeter_codes"]);
        Assert.Equal(1L, await db.ScalarAsync<long>("select count(*) from atd_coverage where atd_id = 'cd-finistere' and collectivite_id = $1", "COM-" + (string)quimper["code"]!));

        // A commune outside every perimeter: covered by none, atd_count 0.
        var covered = expected.Values.SelectMany(x => x).ToHashSet();
        var outside = RawCog.CurrentCommunes.Select(c => (string)c["code"]!).First(c => !covered.Contains(c));
        Assert.Equal(0, await db.ScalarAsync<int>("select atd_count from collectivite where id = $1", "COM-" + outside));
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from atd_coverage where collectivite_id = $1", "COM-" + outside));
        // atd_count = number of ATD covering, for every commune.
        var counts = covered.ToDictionary(c => c, c => expected.Count(e => e.Value.Contains(c)));
        var wrong = (await db.RowsAsync("select code, atd_count from collectivite where type = 'COM'"))
            .Count(r => (int)r[1]! != counts.GetValueOrDefault((string)r[0]!));
        Assert.Equal(0, wrong);
        // Perimeters with codes have a geometry (except Pirae: no overseas boundaries in the bundled files).
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from atd where cardinality(perimeter_codes) > 0 and perimeter is null and id <> 'pirae'"));
    }

    [Fact]
    public async Task Each_atd_todo_list_is_its_obliged_communes_not_open_largest_first()
    {
        var expected = ExpectedCommunes();
        var pop = Expected.CommunePopulation();
        var open = Expected.OpenCommunes(RawOdf.October);
        var client = db.App.CreateClient();
        foreach (var (atd, communes) in expected)
        {
            var want = communes.Where(c => pop[c] >= 3500 && !open.Contains(c)).OrderByDescending(c => pop[c]).ThenBy(c => c).ToList();
            var resp = await client.GetAsync($"/api/atd/{atd}/todo?limit=5000");
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            using var doc = JsonDocument.Parse(await resp.Content.ReadAsStringAsync());
            var items = doc.RootElement.GetProperty("items").EnumerateArray().ToList();
            var got = items.Where(i => i.GetProperty("type").GetString() == "COM").Select(i => i.GetProperty("code").GetString()!).ToList();
            Assert.Equal(want.ToHashSet(), got.ToHashSet());
            // Largest first, whatever the type.
            var pops = items.Select(i => i.GetProperty("population").GetInt32()).ToList();
            Assert.Equal(pops.OrderByDescending(p => p), pops);
        }
        var notFound = await client.GetAsync("/api/atd/inconnu/todo");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("application/problem+json", notFound.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Atd_figures_are_consistent_with_its_coverage()
    {
        var client = db.App.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/api/atd?date=2022-10-19"));
        var list = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(RawOdf.Atd.Count, list.Count);
        var expected = ExpectedCommunes();
        var pop = Expected.CommunePopulation();
        var open = Expected.OpenCommunes(RawOdf.October);
        var rennes = list.Single(a => a.GetProperty("id").GetString() == "rennes-metropole");
        var members = expected["rennes-metropole"];
        // Communes + the métropole itself.
        Assert.Equal(members.Count + 1, rennes.GetProperty("covered").GetInt64());
        var rm = RawOdf.October.Any(r => r.Siren == "243500139") ? 1 : 0;
        Assert.Equal(members.Count(open.Contains) + rm, rennes.GetProperty("open").GetInt64());
        Assert.Equal(members.Count(c => pop[c] >= 3500) + 1, rennes.GetProperty("obliged").GetInt64());
    }

    /// <summary>
    /// The coverage counts of OData's Atds (the odata_atd view) are those of /api/atd for every ATD, in the
    /// whole set and by key, and Rennes Métropole's are those of the raw registry and COG.
    /// </summary>
    [Fact]
    public async Task OData_atd_counts_equal_the_api_s_for_every_atd_in_the_set_and_by_key()
    {
        var client = db.App.CreateClient();
        using var api = JsonDocument.Parse(await client.GetStringAsync("/api/atd"));
        var expected = api.RootElement.EnumerateArray().ToDictionary(a => a.GetProperty("id").GetString()!,
            a => (a.GetProperty("covered").GetInt64(), a.GetProperty("obliged").GetInt64(), a.GetProperty("obligedOpen").GetInt64()));
        const string select = "$select=Id,CoveredCount,CoveredObligedCount,CoveredObligedOpenCount";
        using var set = JsonDocument.Parse(await client.GetStringAsync("/odata/Atds?" + select));
        Assert.False(set.RootElement.TryGetProperty("@odata.nextLink", out _));
        static (long, long, long) Counts(JsonElement a) =>
            (a.GetProperty("CoveredCount").GetInt64(), a.GetProperty("CoveredObligedCount").GetInt64(), a.GetProperty("CoveredObligedOpenCount").GetInt64());
        var odata = set.RootElement.GetProperty("value").EnumerateArray().ToDictionary(a => a.GetProperty("Id").GetString()!, Counts);
        Assert.Equal(RawOdf.Atd.Count, odata.Count);
        foreach (var (id, counts) in expected) Assert.True(counts == odata[id], $"{id} : api {counts}, OData {odata[id]}");
        Assert.Contains(odata.Values, c => c.Item3 > 0);

        using var one = JsonDocument.Parse(await client.GetStringAsync("/odata/Atds('rennes-metropole')?" + select));
        Assert.Equal(expected["rennes-metropole"], Counts(one.RootElement));
        var members = ExpectedCommunes()["rennes-metropole"];
        var pop = Expected.CommunePopulation();
        Assert.Equal((long)members.Count + 1, odata["rennes-metropole"].Item1);
        Assert.Equal(members.Count(c => pop[c] >= 3500) + 1, odata["rennes-metropole"].Item2);
    }

    [Fact]
    public async Task Each_atd_names_its_perimeter_and_seasons_from_the_registry_and_has_the_bbox_of_its_communes()
    {
        var client = db.App.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/api/atd"));
        var byId = doc.RootElement.EnumerateArray().ToDictionary(a => a.GetProperty("id").GetString()!);
        var names = RawCog.Regions.Concat(RawCog.Departements).Concat(RawCog.Communes)
            .Select(x => ((string)x!["code"]!, (string)x!["nom"]!)).Concat(RawCog.Epci.Concat(RawCog.Ept).Select(e => ((string)e!["code"]!, (string)e!["nom"]!)))
            .GroupBy(x => x.Item1).ToDictionary(g => g.Key, g => g.Select(x => x.Item2).ToHashSet());
        foreach (var a in RawOdf.Atd)
        {
            var json = byId[a["atd_id"]];
            var codes = a["perimeter_codes"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var shown = json.GetProperty("perimeterNames").EnumerateArray().Select(n => n.GetString()!).ToList();
            Assert.Equal(codes.Length, shown.Count);
            for (var i = 0; i < codes.Length; i++) Assert.Contains(shown[i], names[codes[i]]);
            Assert.Equal(a["seasons"].Split(' ', StringSplitOptions.RemoveEmptyEntries), json.GetProperty("seasons").EnumerateArray().Select(s => s.GetString()!));
        }
        // The bbox of a département's ATD is the département's.
        var bbox = byId["cd-cotes-darmor"].GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var dep = (await db.RowsAsync("select ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) from collectivite_geometry where collectivite_id = 'DEP-22'"))[0];
        for (var i = 0; i < 4; i++) Assert.Equal((double)dep[i]!, bbox[i], 0.01);
    }
}
