using System.Net;
using System.Text.Json;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Geo;

/// <summary>/api/search and /api/collectivites/{id}, against the raw COG list.</summary>
public sealed class SearchAndCardTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    async Task<JsonElement> JsonAsync(string url)
    {
        var res = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
    }

    [Theory]
    [InlineData("saint etienne", "42218")]
    [InlineData("SAINT-ÉTIENNE", "42218")]
    [InlineData("35238", "35238")]
    [InlineData("213502388", "35238")]
    [InlineData("rennes", "35238")]
    [InlineData("Renes", "35238")]      // a typo: Rennes before Renescure (59), which starts with "renes"
    [InlineData("saint etiene", "42218")]
    public async Task Search_finds_by_name_code_or_siren_without_accents_or_hyphens(string q, string code)
    {
        var results = (await JsonAsync("/api/search?q=" + Uri.EscapeDataString(q))).GetProperty("results").EnumerateArray().ToArray();
        Assert.InRange(results.Length, 1, 10);
        var first = results[0];
        Assert.Equal(code, first.GetProperty("code").GetString());
        var raw = RawCog.CurrentCommunes.Single(c => (string?)c["code"] == code);
        Assert.Equal((string)raw["nom"]!, first.GetProperty("name").GetString());
        var label = first.GetProperty("label").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var bbox = first.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.InRange(label[0], bbox[0], bbox[2]);
        Assert.InRange(label[1], bbox[1], bbox[3]);
    }

    [Fact]
    public async Task Search_finds_an_atd_by_name()
    {
        var name = await db.ScalarAsync<string>("select name from atd where id = 'cd-cotes-darmor'");
        var results = (await JsonAsync("/api/search?q=" + Uri.EscapeDataString(name))).GetProperty("results").EnumerateArray().ToArray();
        // Its exact name ranks it first among the ATD (other names may be close enough to follow it).
        var atd = results.First(r => r.GetProperty("type").GetString() == "ATD");
        Assert.Equal("ATD-cd-cotes-darmor", atd.GetProperty("id").GetString());
        Assert.Equal("cd-cotes-darmor", atd.GetProperty("code").GetString());
        Assert.Equal(name, atd.GetProperty("name").GetString());
        Assert.Equal(4, atd.GetProperty("bbox").GetArrayLength());
    }

    [Fact]
    public async Task The_card_says_why_it_is_obliged_and_its_status_on_a_date()
    {
        var card = await JsonAsync("/api/collectivites/COM-35238?date=2022-04-25");
        // Whether and why it is obliged, from the one rule (SQL obligation): Rennes, 3,500+ inhabitants, staff unknown.
        Assert.StartsWith("Obligée", card.GetProperty("obligation").GetString());
        Assert.Contains("borne haute", card.GetProperty("obligation").GetString());
        Assert.Equal("Comptée une seule fois, avec Ville de Paris (même personne morale).",
            (await JsonAsync("/api/collectivites/DEP-75")).GetProperty("obligation").GetString());
        Assert.Equal("2022-10-19", card.GetProperty("lastObservation").GetString());
        var listed = await db.ScalarAsync<bool>("select bool_or(is_listed) from observation where collectivite_id = 'COM-35238' and observed_on = '2022-04-25'");
        Assert.Equal(listed, card.GetProperty("onDate").GetProperty("open").GetBoolean());
        Assert.Equal(JsonValueKind.Null, (await JsonAsync("/api/collectivites/COM-35238")).GetProperty("onDate").ValueKind);
        var bad = await db.App.CreateClient().GetAsync("/api/collectivites/COM-35238?date=hier");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Search_returns_at_most_ten_results_and_refuses_an_empty_query()
    {
        var results = (await JsonAsync("/api/search?q=saint")).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(10, results.Length);
        var res = await db.App.CreateClient().GetAsync("/api/search?q=");
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
    }

    [Fact]
    public async Task The_card_of_Rennes_has_its_figures_parents_and_history()
    {
        var raw = RawCog.CurrentCommunes.Single(c => (string?)c["code"] == "35238");
        var epci = RawCog.Epci.Single(e => e!["membres"]!.AsArray().Any(m => (string?)m!["code"] == "35238"))!;
        var card = await JsonAsync("/api/collectivites/COM-35238");
        Assert.Equal((string)raw["nom"]!, card.GetProperty("name").GetString());
        Assert.Equal((string)raw["siren"]!, card.GetProperty("siren").GetString());
        Assert.Equal((int)raw["population"]!, card.GetProperty("population").GetInt32());
        Assert.True(card.GetProperty("obliged").GetBoolean());
        Assert.Equal((string)epci["nom"]!, card.GetProperty("epci").GetProperty("name").GetString());
        Assert.Equal("Ille-et-Vilaine", card.GetProperty("departement").GetProperty("name").GetString());
        var observations = await db.ScalarAsync<long>("select count(*) from observation where collectivite_id = 'COM-35238'");
        Assert.Equal(observations, card.GetProperty("history").GetArrayLength());
    }

    [Fact]
    public async Task The_card_of_an_area_counts_its_members()
    {
        var card = await JsonAsync("/api/collectivites/EPCI-243500139");
        var epci = RawCog.Epci.Single(e => (string?)e!["code"] == "243500139")!;
        Assert.Equal(epci["membres"]!.AsArray().Count + 1, card.GetProperty("members").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Place_labels_are_the_communes_in_the_bbox_most_populous_first()
    {
        var labels = (await JsonAsync("/api/geo/labels?zoom=10&bbox=-1.9,47.9,-1.4,48.3")).EnumerateArray().ToArray();
        var expected = await db.RowsAsync("""
            select c.name, c.population from collectivite_geometry g join collectivite c on c.id = g.collectivite_id
             where c.type = 'COM' and ST_Intersects(g.label_point, ST_MakeEnvelope(-1.9, 47.9, -1.4, 48.3, 4326))
             order by c.population desc nulls last, c.id limit 300
            """);
        Assert.Equal(expected.Select(r => (string)r[0]!), labels.Select(l => l[2].GetString()!));
        Assert.Equal("Rennes", labels[0][2].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await db.App.CreateClient().GetAsync("/api/geo/labels?zoom=10")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await db.App.CreateClient().GetAsync("/api/geo/labels?zoom=5&bbox=-1.9,47.9,-1.4,48.3")).StatusCode);
    }

    [Theory]
    [InlineData("/api/collectivites/COM-00000", 404)]
    [InlineData("/api/collectivites/n'importe%20quoi", 400)]
    public async Task Unknown_or_malformed_ids_get_problem_details(string url, int status)
    {
        var res = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(status, (int)res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
    }
}
