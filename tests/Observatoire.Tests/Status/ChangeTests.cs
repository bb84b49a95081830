using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Observatoire.Api;
using Observatoire.Contributions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// /api/changes (issue #17): what changed between two dates, checked three ways: against changes made
/// here through the write API (a commune opened, one closed, a count raised: each found with the
/// observation behind it), against the indicators of the same filters (open on the later date minus
/// open on the earlier = newly open minus no longer listed), and the dataset changes of the bundled
/// snapshots against a plain reading of the observation rows.
/// </summary>
public sealed class ChangeTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static readonly string Today = QueryParameters.Today.ToString("yyyy-MM-dd");

    async Task<long> WriteAsync(HttpClient client, object body)
    {
        var r = await client.PostAsync("/api/observations", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    static List<string> Ids(JsonElement answer, string list) =>
        answer.GetProperty(list).EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task Changes_made_through_the_api_are_listed_with_the_observation_behind_each()
    {
        var client = db.App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await ApiKeys.CreateAsync(db.DataSource, "changements", Contributor.Admin, null, null)).Key);
        var closed = await db.ScalarAsync<string>("select id from collectivite where type = 'COM' and is_open and dataset_count > 0 order by population desc limit 1");
        var raised = await db.ScalarAsync<string>("select id from collectivite where type = 'COM' and is_open and dataset_count > 0 and id <> $1 order by population desc limit 1", closed);
        var opened = await db.ScalarAsync<string>("select id from collectivite where type = 'COM' and not is_open and is_obliged order by population desc limit 1");
        var before = await db.ScalarAsync<int>("select dataset_count from collectivite where id = $1", raised);
        var last = await db.ScalarAsync<string>("select last_observation()::text");

        var openedObs = await WriteAsync(client, new { collectivite = opened, observedOn = Today, datasetsLocal = 4 });
        var closedObs = await WriteAsync(client, new { collectivite = closed, observedOn = Today, open = false, note = "portail fermé" });
        var raisedObs = await WriteAsync(client, new { collectivite = raised, observedOn = Today, datasetsLocal = before + 10 });

        var answer = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from={last}&to={Today}");
        Assert.Equal([opened], Ids(answer, "newlyOpen"));
        Assert.Equal([closed], Ids(answer, "noLongerListed"));
        var up = answer.GetProperty("datasetChanges").EnumerateArray().Single();
        Assert.Equal((raised, "up", before, before + 10), (up.GetProperty("id").GetString(), up.GetProperty("change").GetString(),
            up.GetProperty("datasetsBefore").GetInt32(), up.GetProperty("datasetsAfter").GetInt32()));
        Assert.Equal(openedObs, answer.GetProperty("newlyOpen")[0].GetProperty("after").GetProperty("id").GetInt64());
        Assert.Equal(closedObs, answer.GetProperty("noLongerListed")[0].GetProperty("after").GetProperty("id").GetInt64());
        Assert.Equal(raisedObs, up.GetProperty("after").GetProperty("id").GetInt64());
        Assert.Equal(last, answer.GetProperty("noLongerListed")[0].GetProperty("before").GetProperty("date").GetString());

        // The same as CSV, French spreadsheet conventions.
        var csv = Encoding.UTF8.GetString(await client.GetByteArrayAsync($"/api/changes?from={last}&to={Today}&format=csv"));
        var lines = csv.TrimStart('\uFEFF').TrimEnd().Split("\r\n");
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("Changement;Identifiant;Nom", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("nouvellement ouverte;" + opened + ";", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("n'apparaît plus ouverte;" + closed + ";", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("&region=53")]
    [InlineData("&type=COM&obliged=true")]
    [InlineData("&atd=bretagne")]
    public async Task Newly_open_minus_no_longer_listed_equals_the_indicators_difference(string filters)
    {
        var client = db.App.CreateClient();
        foreach (var (from, to) in new[] { ("2022-01-01", "2022-10-19"), ("2022-04-25", "2022-10-19") })
        {
            var answer = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from={from}&to={to}{filters}");
            var openFrom = (await client.GetFromJsonAsync<JsonElement>($"/api/indicators?date={from}{filters}")).GetProperty("open");
            var openTo = (await client.GetFromJsonAsync<JsonElement>($"/api/indicators?date={to}{filters}")).GetProperty("open").GetInt32();
            // Before the first observation the indicators say "unknown" (null): nothing was open then.
            var before = openFrom.ValueKind == JsonValueKind.Null ? 0 : openFrom.GetInt32();
            Assert.Equal(openTo - before, answer.GetProperty("newlyOpen").GetArrayLength() - answer.GetProperty("noLongerListed").GetArrayLength());
            Assert.Equal(openFrom.ValueKind != JsonValueKind.Null, answer.GetProperty("observedFrom").GetBoolean());
        }
    }

    [Fact]
    public async Task Dataset_changes_between_the_snapshots_match_a_plain_reading_of_the_observations()
    {
        // The latest observation day of each collectivité on or before each date, its listed rows' known
        // counts summed per part (local platform, data.gouv.fr); null where a part is unknown that day.
        const string sql = """
            with day as (
                select collectivite_id, observed_on, bool_or(is_listed) as listed,
                       sum(datasets_local) filter (where is_listed) as local, sum(datasets_datagouv) filter (where is_listed) as datagouv
                  from observation where collectivite_id is not null and superseded_by is null and observed_on <= $1
                 group by 1, 2),
            latest as (select distinct on (collectivite_id) * from day order by collectivite_id, observed_on desc)
            select collectivite_id, listed, local, datagouv from latest
            """;
        var april = (await db.RowsAsync(sql, new DateOnly(2022, 4, 25))).ToDictionary(r => (string)r[0]!, r => (Listed: (bool)r[1]!, Local: r[2] as long?, DataGouv: r[3] as long?));
        var october = (await db.RowsAsync(sql, new DateOnly(2022, 10, 19))).ToDictionary(r => (string)r[0]!, r => (Listed: (bool)r[1]!, Local: r[2] as long?, DataGouv: r[3] as long?));
        // A count changed when a part known on both dates changed: April's data.gouv.fr counts are unknown
        // (its column is shifted, docs/status.md), so October's data.gouv.fr counts are no "rise".
        static long Delta(long? before, long? after) => before is { } x && after is { } y ? y - x : 0;
        var expected = october.Where(o => o.Value.Listed && april.TryGetValue(o.Key, out var a) && a.Listed
                                           && Delta(a.Local, o.Value.Local) + Delta(a.DataGouv, o.Value.DataGouv) != 0)
            .Select(o => o.Key).Order().ToList();
        var national = await db.App.CreateClient().GetFromJsonAsync<JsonElement>("/api/changes?from=2022-04-25&to=2022-10-19&type=" + string.Join(',', Observatoire.Reference.CollectiviteTypes.All));
        var actual = national.GetProperty("datasetChanges").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        // Not the 100-odd artefacts that summing unknown parts as zero made (every data.gouv.fr count "rose").
        Assert.True(actual.Count < 20, $"{actual.Count} changements de nombre de jeux");
    }

    [Fact]
    public async Task OData_changes_are_the_api_changes_of_every_collectivite()
    {
        var client = db.App.CreateClient();
        var all = string.Join(',', Observatoire.Reference.CollectiviteTypes.All);
        var api = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from=2022-01-01&to=2022-10-19&type={all}");
        var odata = await client.GetFromJsonAsync<JsonElement>("/odata/Changes(From=2022-01-01,To=2022-10-19)?$filter=Change eq 'newly_open'&$select=Id&$count=true&$top=5000");
        Assert.Equal(api.GetProperty("newlyOpen").GetArrayLength(), odata.GetProperty("@odata.count").GetInt32());
        Assert.Equal(Ids(api, "newlyOpen").Order(), odata.GetProperty("value").EnumerateArray().Select(v => v.GetProperty("Id").GetString()!).Order());
        // The set: between the last two directory snapshots (2022-04-25 and 2022-10-19 in the bundled data).
        var set = await client.GetFromJsonAsync<JsonElement>("/odata/CollectiviteChanges?$count=true&$top=1");
        var between = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from=2022-04-25&to=2022-10-19&type={all}");
        Assert.Equal(between.GetProperty("newlyOpen").GetArrayLength() + between.GetProperty("noLongerListed").GetArrayLength()
            + between.GetProperty("datasetChanges").GetArrayLength(), set.GetProperty("@odata.count").GetInt32());
        // A key lookup below the set (what Power Query follows) answers the set's row, computed for that collectivité only
        // (SQL changes_between with its id); a collectivité that did not change is not found.
        var rows = (await client.GetFromJsonAsync<JsonElement>("/odata/CollectiviteChanges?$select=Id,Change,DatasetsAfter,ObservationAfter&$top=1000"))
            .GetProperty("value").EnumerateArray().ToList();
        Assert.InRange(rows.Count, 1, 999);
        foreach (var row in rows.Take(20))
        {
            var id = row.GetProperty("Id").GetString()!;
            Assert.Equal(row.GetProperty("Change").GetString(), await client.GetStringAsync($"/odata/CollectiviteChanges('{id}')/Change/$value"));
            var after = await client.GetFromJsonAsync<JsonElement>($"/odata/CollectiviteChanges('{id}')/ObservationAfter");
            Assert.Equal(row.GetProperty("ObservationAfter").GetInt64(), after.GetProperty("value").GetInt64());
        }
        var unchanged = await db.ScalarAsync<string>("select id from collectivite where id <> all($1) order by population desc nulls last limit 1",
            new object[] { rows.Select(r => r.GetProperty("Id").GetString()!).ToArray() });
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/odata/CollectiviteChanges('{unchanged}')/Change")).StatusCode);
        var bad = await client.GetAsync("/odata/Changes(From=2022-10-19,To=2022-04-25)");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("From avant To", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Without_dates_the_last_two_snapshots_are_compared_and_atd_true_false_split_the_list()
    {
        var client = db.App.CreateClient();
        var pair = (await db.RowsAsync("select observed_on::text from status_snapshot order by observed_on desc limit 2")).Select(r => (string)r[0]!).ToList();
        var answer = await client.GetFromJsonAsync<JsonElement>("/api/changes");
        Assert.Equal((pair[1], pair[0]), (answer.GetProperty("from").GetString(), answer.GetProperty("to").GetString()));
        var dated = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from={pair[1]}&to={pair[0]}");
        Assert.Equal(Ids(dated, "datasetChanges"), Ids(answer, "datasetChanges"));
        Assert.NotEmpty(Ids(answer, "datasetChanges"));

        // The map's ATD filter: covered by at least one ATD, or by none; together, the whole list.
        var covered = Ids(await client.GetFromJsonAsync<JsonElement>("/api/changes?atd=true"), "datasetChanges");
        var outside = Ids(await client.GetFromJsonAsync<JsonElement>("/api/changes?atd=false"), "datasetChanges");
        var expectedCovered = (await db.RowsAsync("select id from collectivite where atd_count > 0 and id = any($1)", (object)Ids(answer, "datasetChanges").ToArray()))
            .Select(r => (string)r[0]!).Order();
        Assert.Equal(expectedCovered, covered.Order());
        Assert.Equal(Ids(answer, "datasetChanges").Order(), covered.Concat(outside).Order());

        // Each item carries its label point, for the map.
        var first = answer.GetProperty("datasetChanges")[0];
        var point = (await db.RowsAsync("select ST_X(label_point), ST_Y(label_point) from collectivite_geometry where collectivite_id = $1", first.GetProperty("id").GetString()!))[0];
        Assert.Equal((double)point[0]!, first.GetProperty("point")[0].GetDouble(), 4);
        Assert.Equal((double)point[1]!, first.GetProperty("point")[1].GetDouble(), 4);
    }

    [Theory]
    [InlineData("/api/changes?to=2022-10-19", "from")]
    [InlineData("/api/changes?from=2022-10-19&to=2022-04-25", "précéder")]
    [InlineData("/api/changes?from=2022-13-01&to=2022-10-19", "from")]
    [InlineData("/api/changes?from=2022-04-25&to=2022-10-19&format=xml", "format")]
    [InlineData("/api/changes?from=2022-04-25&to=2022-10-19&region=Bretagne", "region")]
    public async Task Bad_parameters_are_french_problems(string url, string expected)
    {
        var r = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains(expected, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }
}
