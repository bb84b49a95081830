using System.Data.Common;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// Server-driven paging, $count, $top and $skip together, as ObservatoireQueryAttribute runs them
/// (page, count and single entity read asynchronously). Expected rows and counts come from plain SQL
/// on the loaded database, in the order the OData request asks for (ties broken by the key, as the
/// service documents).
/// </summary>
public sealed class ODataPagingTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    ODataTestClient Client() => new(db.App.CreateClient());

    async Task<List<string>> IdsAsync(string sql) => (await db.RowsAsync(sql)).Select(r => (string)r[0]!).ToList();

    /// <summary>Every page of a query, following @odata.nextLink with the same Prefer header.</summary>
    static async Task<List<ODataTestClient.Page>> PagesAsync(ODataTestClient client, string url, int? maxPageSize)
    {
        var pages = new List<ODataTestClient.Page>();
        for (string? next = url; next is not null; next = pages[^1].NextLink?.PathAndQuery)
        {
            pages.Add(await client.GetPageAsync(next, "Collectivites", maxPageSize));
            Assert.True(pages.Count < 100, "nextLink sans fin");
        }
        return pages;
    }

    [Fact]
    public async Task Paging_a_filtered_sorted_query_with_count_yields_the_SQL_rows_in_order_and_the_SQL_count_on_every_page()
    {
        var expected = await IdsAsync("select id from collectivite where type = 'COM' and region_code = '53' order by population desc, id");
        Assert.True(expected.Count > 300);

        var pages = await PagesAsync(Client(), Url.Of("Collectivites", ("$filter", "Type eq 'COM' and RegionCode eq '53'"),
            ("$orderby", "Population desc"), ("$select", "Id,Population"), ("$count", "true")), maxPageSize: 100);

        Assert.Equal((expected.Count + 99) / 100, pages.Count);
        Assert.All(pages, p => Assert.Equal(expected.Count, p.Count)); // $count is the whole filtered set, on every page
        Assert.All(pages.SkipLast(1), p => Assert.Equal(100, p.Rows.Count));
        Assert.Null(pages[^1].NextLink);
        Assert.Equal(expected, pages.SelectMany(p => p.Rows).Select(r => (string)r["Id"]!).ToList());
    }

    [Fact]
    public async Task Top_larger_than_the_page_size_is_served_in_pages_that_stop_at_top()
    {
        var expected = await IdsAsync("select id from collectivite where type = 'COM' and departement_code = '35' order by name, id limit 250");
        var count = await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and departement_code = '35'");

        var pages = await PagesAsync(Client(), Url.Of("Collectivites", ("$filter", "Type eq 'COM' and DepartementCode eq '35'"),
            ("$orderby", "Name"), ("$top", "250"), ("$select", "Id"), ("$count", "true")), maxPageSize: 100);

        Assert.Equal(new[] { 100, 100, 50 }, pages.Select(p => p.Rows.Count));
        Assert.Equal(expected, pages.SelectMany(p => p.Rows).Select(r => (string)r["Id"]!).ToList());
        Assert.All(pages, p => Assert.Equal(count, p.Count)); // $top does not change $count
        // The library's link form: the rest of $top, and $skip past what was sent.
        Assert.Contains("$top=150", Uri.UnescapeDataString(pages[0].NextLink!.Query));
        Assert.Contains("$skip=100", Uri.UnescapeDataString(pages[0].NextLink!.Query));
        Assert.Null(pages[2].NextLink);

        // At the service's own page size: $top = 1000 = MaxTop is one full page and no link.
        var all = await Client().GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM'"), ("$top", "1000"), ("$select", "Id")), "Collectivites");
        Assert.Equal(1000, all.Rows.Count);
        Assert.Null(all.NextLink);
        Assert.Equal(await IdsAsync("select id from collectivite where type = 'COM' order by id limit 1000"), all.Rows.Select(r => (string)r["Id"]!).ToList());
    }

    [Fact]
    public async Task Skip_with_paging_continues_after_the_skipped_rows()
    {
        var expected = await IdsAsync("select id from collectivite where type = 'COM' and region_code = '84' order by id offset 500 limit 450");
        var pages = await PagesAsync(Client(), Url.Of("Collectivites", ("$filter", "Type eq 'COM' and RegionCode eq '84'"),
            ("$skip", "500"), ("$top", "450"), ("$select", "Id")), maxPageSize: 200);
        Assert.Equal(new[] { 200, 200, 50 }, pages.Select(p => p.Rows.Count));
        Assert.Equal(expected, pages.SelectMany(p => p.Rows).Select(r => (string)r["Id"]!).ToList());

        // Near the end of the set: what is left, and no link.
        var communes = await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM'");
        var tail = await Client().GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM'"), ("$skip", (communes - 69).ToString()), ("$select", "Id"), ("$count", "true")), "Collectivites");
        Assert.Equal(69, tail.Rows.Count);
        Assert.Equal(communes, tail.Count);
        Assert.Null(tail.NextLink);
    }

    [Fact]
    public async Task Apply_groupby_with_count_and_paging_gives_every_group_once_and_the_number_of_groups()
    {
        var expected = (await db.RowsAsync("""
            select coalesce(departement_code, ''), coalesce(population_band, ''), count(*), count(*) filter (where is_obliged)
              from collectivite where type = 'COM' group by 1, 2
            """)).ToDictionary(r => ((string)r[0]!, (string)r[1]!), r => ((long)r[2]!, (long)r[3]!));
        Assert.True(expected.Count > 400);

        var client = Client();
        var groups = new Dictionary<(string, string), (long, long)>();
        var pages = 0;
        for (string? next = Url.Of("Collectivites", ("$apply", "filter(Type eq 'COM')/groupby((DepartementCode,PopulationBand),aggregate($count as N,ObligedFlag with sum as Obliged))"),
                 ("$count", "true")); next is not null; pages++)
        {
            var (status, json, text) = await client.GetJsonAsync(next, maxPageSize: 200);
            Assert.True(status == 200, text);
            Assert.Equal(expected.Count, json.GetProperty("@odata.count").GetInt64());
            foreach (var r in json.GetProperty("value").EnumerateArray())
                groups.Add((r.GetProperty("DepartementCode").GetString() ?? "", r.GetProperty("PopulationBand").GetString() ?? ""),
                    (r.GetProperty("N").GetInt64(), r.GetProperty("Obliged").GetInt64()));
            next = json.TryGetProperty("@odata.nextLink", out var nl) ? new Uri(nl.GetString()!).PathAndQuery : null;
        }
        Assert.Equal((expected.Count + 199) / 200, pages);
        Assert.Equal(expected.OrderBy(x => x.Key), groups.OrderBy(x => x.Key));
    }

    [Theory]
    [InlineData("Type in ('CC','CA','CU','MET')", "type in ('CC','CA','CU','MET')")]
    [InlineData("Population ge 3500 and IsObliged", "population >= 3500 and is_obliged")]
    [InlineData("startswith(Name,'Saint-') and Type eq 'COM'", "name like 'Saint-%' and type = 'COM'")]
    [InlineData("DatasetCount ne null or AtdCount gt 0", "dataset_count is not null or atd_count > 0")]
    public async Task Count_equals_an_independent_SQL_count(string filter, string where)
    {
        var expected = await db.ScalarAsync<long>($"select count(*) from collectivite where {where}");
        var client = Client();
        var page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", filter), ("$count", "true"), ("$top", "3"), ("$select", "Id")), "Collectivites");
        Assert.Equal(expected, page.Count);
        Assert.Equal(Math.Min(3, expected), page.Rows.Count);
        Assert.Equal(expected, long.Parse(await client.Http.GetStringAsync(Url.Of("Collectivites/$count", ("$filter", filter)))));
    }

    [Fact]
    public async Task Every_request_reads_the_database_asynchronously()
    {
        var log = new SqlLog();
        using var trips = new RoundTrips();
        await using var app = trips.On(db).WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IDbCommandInterceptor>(log)));
        var client = new ODataTestClient(app.CreateClient());

        // A plain page with $count: EF builds both statements, PlainPageWriter sends them in one batch
        // (asynchronously: EF's interceptors do not see it, Npgsql's tracing does).
        var page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM' and RegionCode eq '53'"), ("$top", "100"), ("$count", "true"), ("$select", "Id")), "Collectivites");
        Assert.Equal(100, page.Rows.Count);
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and region_code = '53'"), page.Count);
        Assert.Single(trips.Sent);
        Assert.Equal(0, log.Async + log.Sync);

        // A single entity, found and not found; the $count segment; an $apply answer.
        var (status, json, text) = await client.GetJsonAsync(Url.Of("Collectivites('COM-35238')", ("$select", "Name,Population")));
        Assert.True(status == 200, text);
        var rennes = (await db.RowsAsync("select name, population from collectivite where id = 'COM-35238'")).Single();
        Assert.Equal((string)rennes[0]!, json.GetProperty("Name").GetString());
        Assert.Equal((long)(int)rennes[1]!, json.GetProperty("Population").GetInt64());
        Assert.Equal(404, (await client.GetJsonAsync(Url.Of("Collectivites('COM-00000')"))).Status);
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from collectivite where type = 'DEP'"),
            long.Parse(await client.Http.GetStringAsync(Url.Of("Collectivites/$count", ("$filter", "Type eq 'DEP'")))));
        (status, _, text) = await client.GetJsonAsync(Url.Of("Collectivites", ("$apply", "groupby((Type),aggregate($count as N))")));
        Assert.True(status == 200, text);

        Assert.Equal(4, log.Async);
        Assert.Equal(0, log.Sync);
        Assert.Equal(5, trips.Sent.Count);
    }

    sealed class SqlLog : DbCommandInterceptor
    {
        int sync, async;
        public int Sync => sync;
        public int Async => async;
        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Interlocked.Increment(ref sync);
            return result;
        }
        public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
        {
            Interlocked.Increment(ref sync);
            return result;
        }
        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref async);
            return ValueTask.FromResult(result);
        }
        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref async);
            return ValueTask.FromResult(result);
        }
    }
}
