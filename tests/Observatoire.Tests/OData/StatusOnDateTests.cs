using Npgsql;
using Observatoire.Data;
using Observatoire.Import;
using Observatoire.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Observatoire.Tests.OData;

/// <summary>
/// StatusOn(Date=…) on its own database (the bundled data plus a few observations written here), so
/// the as-of-date logic is exercised whatever the status import loads. The expected answers come
/// from the observation rows by plain SQL, never from status_on.
/// </summary>
public sealed class StatusOnDateTests : IAsyncLifetime
{
    string cs = "";
    NpgsqlDataSource data = null!;
    WebApplicationFactory<Program> app = null!;

    public async Task InitializeAsync()
    {
        cs = await TestEnvironment.CreateDatabaseAsync("odatastatus");
        data = Database.CreateDataSource(cs);
        await Migrator.MigrateAsync(data);
        await BundledData.LoadAsync(data, TestEnvironment.DataDir, TextWriter.Null);
        // Three real obliged communes of Bretagne and one of Normandie, with a history: listed, then
        // absent; absent, then listed; listed twice; listed once. Whatever the import left stays.
        await using var cmd = data.CreateCommand("""
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, datasets_datagouv, match_method)
            select 'test-' || id, id, d::date, 'test-odata-' || d, l, n, null, 'siren'
              from (values ('COM-35238', '2022-04-25', true, 12), ('COM-35238', '2022-10-19', false, null),
                           ('COM-35288', '2022-04-25', false, null), ('COM-35288', '2022-10-19', true, 3),
                           ('COM-29019', '2022-04-25', true, null), ('COM-29019', '2022-10-19', true, 40),
                           ('COM-14118', '2022-10-19', true, 5)) v(id, d, l, n)
            on conflict do nothing
            """);
        await cmd.ExecuteNonQueryAsync();
        app = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:Observatoire", cs)
            .UseSetting("OData:RequestBudgetSeconds", "120")); // a loaded shared machine: see LoadedDatabase.App
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await data.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(cs);
    }

    async Task<Dictionary<string, (long Obliged, long Open)>> ExpectedAsync(string date)
    {
        await using var cmd = data.CreateCommand("""
            with latest as (
                select distinct on (collectivite_id) collectivite_id, is_listed from observation
                 where collectivite_id is not null and observed_on <= $1::date
                 order by collectivite_id, observed_on desc, is_listed desc)
            select c.region_code, count(*), count(*) filter (where l.is_listed)
              from collectivite c left join latest l on l.collectivite_id = c.id
             where c.is_obliged and c.region_code is not null group by 1
            """);
        cmd.Parameters.AddWithValue(date);
        await using var rd = await cmd.ExecuteReaderAsync();
        var d = new Dictionary<string, (long, long)>();
        while (await rd.ReadAsync()) d[rd.GetString(0)] = (rd.GetInt64(1), rd.GetInt64(2));
        return d;
    }

    [Fact]
    public async Task Open_among_obliged_by_region_follows_the_observations_at_each_date()
    {
        var client = new ODataTestClient(app.CreateClient());
        foreach (var date in new[] { "2022-04-24", "2022-04-25", "2022-06-01", "2022-10-19", "2030-01-01" })
        {
            var (status, json, text) = await client.GetJsonAsync(Url.Of($"StatusOn(Date={date})",
                ("$apply", "filter(IsObliged and RegionCode ne null)/groupby((RegionCode),aggregate($count as Obliged, ObligedOpenFlag with sum as Open))")));
            Assert.True(status == 200, text);
            var actual = json.GetProperty("value").EnumerateArray()
                .ToDictionary(r => r.GetProperty("RegionCode").GetString()!, r => (r.GetProperty("Obliged").GetInt64(), r.GetProperty("Open").GetInt64()));
            var expected = await ExpectedAsync(date);
            Assert.Equal(expected.OrderBy(x => x.Key, StringComparer.Ordinal), actual.OrderBy(x => x.Key, StringComparer.Ordinal));
        }
    }

    // ODataMessageReader 8.x returns Edm.Date values as its own (obsolete) Date type or as DateOnly.
    static DateOnly? AsDate(object? v) => v switch
    {
        null => null,
        DateOnly d => d,
        _ => DateOnly.Parse(v.ToString()!, System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task Each_collectivite_row_carries_the_status_and_dataset_count_of_its_latest_observation()
    {
        var client = new ODataTestClient(app.CreateClient());
        foreach (var date in new[] { "2022-04-25", "2022-06-01", "2022-10-19" })
        {
            var page = await client.GetPageAsync(Url.Of($"StatusOn(Date={date})",
                ("$filter", "Id in ('COM-35238','COM-35288','COM-29019','COM-14118')"), ("$count", "true")), "CollectiviteStatuses");
            Assert.Equal(4, page.Count);
            await using var cmd = data.CreateCommand("""
                -- The rule of docs/status.md, restated: the latest day with observations decides; several
                -- observations of one day (an old and a new SIREN, or this test's rows beside the real
                -- snapshot's) make it open if any is listed, and their known dataset counts add up.
                with day as (
                  select collectivite_id, observed_on, bool_or(is_listed) as listed,
                         sum(coalesce(datasets_local, 0) + coalesce(datasets_datagouv, 0))
                           filter (where is_listed and (datasets_local is not null or datasets_datagouv is not null)) as n
                    from observation where observed_on <= $1::date and collectivite_id = any($2)
                   group by 1, 2)
                select distinct on (collectivite_id) collectivite_id, listed, case when listed then n end::int,
                       (select min(observed_on) from day f where f.collectivite_id = day.collectivite_id and f.listed)
                  from day
                 order by collectivite_id, observed_on desc
                """);
            cmd.Parameters.AddWithValue(date);
            cmd.Parameters.AddWithValue(new[] { "COM-35238", "COM-35288", "COM-29019", "COM-14118" });
            var expected = new Dictionary<string, (bool, long?, DateOnly?)>();
            await using (var rd = await cmd.ExecuteReaderAsync())
                while (await rd.ReadAsync())
                    expected[rd.GetString(0)] = (rd.GetBoolean(1), rd.IsDBNull(2) ? null : rd.GetInt32(2), rd.IsDBNull(3) ? null : rd.GetFieldValue<DateOnly>(3));
            foreach (var row in page.Rows)
            {
                var id = (string)row["Id"]!;
                var (open, n, first) = expected.GetValueOrDefault(id, (false, null, null));
                Assert.Equal(open, (bool)row["IsOpen"]!);
                Assert.Equal(n, (long?)row["DatasetCount"]);
                Assert.Equal(first, AsDate(row["FirstSeenOpen"]));
                Assert.Equal(DateOnly.Parse(date), AsDate(row["Date"]));
            }
        }
    }
}
