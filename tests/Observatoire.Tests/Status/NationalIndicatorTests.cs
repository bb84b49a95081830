using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Observatoire.Api;
using Observatoire.Contributions;
using Observatoire.Indicators;
using Observatoire.Reference;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// The national indicators without a filter have their own query (migration 015: what does not depend on
/// the date is computed per reference import; the date only selects the open collectivités). Its answers
/// must be those of the general selection query, which the same scope asked as a type filter (the eight
/// types of the collectivités proper) goes through: compared on every observation date, between and around
/// them, and after writes that open the Métropole du Grand Paris above open EPT (a commune under both counts
/// once), close a département and open a région.
/// </summary>
public sealed class NationalIndicatorTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    async Task AssertSameAsGeneralQueryAsync(DateOnly? date)
    {
        var q = new IndicatorQueries(db.DataSource);
        var national = await q.ComputeAsync(new IndicatorFilter(Date: date));
        var general = await q.ComputeAsync(new IndicatorFilter(Date: date, Types: CollectiviteTypes.Proper));
        Assert.Equal(general, national);
    }

    async Task<List<DateOnly>> DatesAsync()
    {
        var observed = (await db.RowsAsync("select distinct observed_on from observation order by 1")).Select(r => (DateOnly)r[0]!).ToList();
        Assert.NotEmpty(observed);
        var dates = new List<DateOnly> { observed[0].AddDays(-1), observed[^1].AddDays(30) };
        foreach (var (a, b) in observed.Zip(observed.Skip(1))) dates.Add(a.AddDays(a.DayNumber < b.DayNumber - 1 ? (b.DayNumber - a.DayNumber) / 2 : 0));
        return [.. observed, .. dates];
    }

    [Fact]
    public async Task The_national_query_equals_the_general_one_on_every_date_and_after_writes_on_nested_parents()
    {
        await AssertSameAsGeneralQueryAsync(null);
        foreach (var d in await DatesAsync()) await AssertSameAsGeneralQueryAsync(d);
        await db.AssertStatusRunsAreCurrentAsync();

        // Open the Métropole du Grand Paris while some of its EPT are open, close an open département,
        // open a closed région and a commune of an open EPT: the overlaps the national query sums apart.
        var mgp = await db.ScalarAsync<string>("select id from collectivite where type = 'MET' and siren = '200054781'");
        var openEpt = await db.ScalarAsync<long>("select count(*) from collectivite where type = 'EPT' and is_open");
        Assert.True(openEpt > 0, "the bundled data hold open EPT");
        var dep = await db.ScalarAsync<string>("select id from collectivite where type = 'DEP' and is_open order by population desc limit 1");
        var reg = await db.ScalarAsync<string>("select id from collectivite where type = 'REG' and not is_open and not is_overseas_collectivity order by population desc limit 1");
        var commune = await db.ScalarAsync<string>("""
            select c.id from collectivite c join collectivite e on e.siren = c.ept_siren and e.type = 'EPT'
             where c.type = 'COM' and not c.is_open and e.is_open order by c.population desc limit 1
            """);
        var before = await new IndicatorQueries(db.DataSource).ComputeAsync(new IndicatorFilter());

        var client = db.App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await ApiKeys.CreateAsync(db.DataSource, "indicateurs", Contributor.Admin, null, null)).Key);
        var today = QueryParameters.Today.ToString("yyyy-MM-dd");
        foreach (var body in new object[]
        {
            new { collectivite = mgp, observedOn = today, datasetsLocal = 3 },
            new { collectivite = reg, observedOn = today, datasetsLocal = 2 },
            new { collectivite = commune, observedOn = today, datasetsLocal = 1 },
            new { collectivite = dep, observedOn = today, open = false, note = "portail fermé" },
        })
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/observations", body)).StatusCode);

        var after = await new IndicatorQueries(db.DataSource).ComputeAsync(new IndicatorFilter());
        Assert.Equal(before.Open + 2, after.Open);  // the MGP and the commune; the région opens, the département closes
        Assert.True(after.PopulationInOpenCommuneOrEpci > before.PopulationInOpenCommuneOrEpci);
        await AssertSameAsGeneralQueryAsync(null);
        foreach (var d in await DatesAsync()) await AssertSameAsGeneralQueryAsync(d);

        // A write dated between the two snapshots, inside runs that continue after it: the runs are
        // recomputed from that day on (migration 016) and must equal a full recomputation.
        // And one written today for a collectivité whose current run began after it was first seen open
        // (its count changed): the first day seen open is carried into the recomputed runs.
        var middle = await db.ScalarAsync<string>("select id from collectivite where type = 'COM' and is_open and first_seen_open = '2022-04-25' order by population desc limit 1");
        var changed = await db.ScalarAsync<string>("""
            select collectivite_id from status_period
             where upper_inf(valid) and is_open and first_seen_open < lower(valid) and collectivite_id <> $1 order by collectivite_id limit 1
            """, middle);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/observations",
            new { collectivite = middle, observedOn = "2022-06-01", datasetsLocal = 1234 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/observations",
            new { collectivite = changed, observedOn = today, datasetsLocal = 4321 })).StatusCode);
        Assert.Equal("2022-04-25", await db.ScalarAsync<string>("select first_seen_open::text from collectivite where id = $1", changed));
        Assert.Equal(1234, await db.ScalarAsync<int>("select dataset_count from status_on('2022-07-01') where collectivite_id = $1", middle));
        await db.AssertStatusRunsAreCurrentAsync();
        await AssertSameAsGeneralQueryAsync(new DateOnly(2022, 6, 1));
    }
}
