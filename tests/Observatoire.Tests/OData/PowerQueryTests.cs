using System.Diagnostics;
using System.Text.Json;
using System.Xml;
using Microsoft.AspNetCore.Hosting;
using Microsoft.OData.Edm.Csdl;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// What Power Query (Excel, Power BI) does by default, end to end, with its headers; the right
/// answers it relies on (nulls in $orderby, StatusOn's segment); the per-request time budget. A
/// database of its own: the budget test checks that no query is left running on it afterwards.
/// </summary>
public sealed class PowerQueryTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    /// <summary>The headers OData.Feed sends (Implementation 2.0).</summary>
    static HttpClient PowerQuery(HttpClient http)
    {
        http.DefaultRequestHeaders.TryAddWithoutValidation("Accept",
            "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7");
        http.DefaultRequestHeaders.TryAddWithoutValidation("OData-MaxVersion", "4.0");
        http.DefaultRequestHeaders.TryAddWithoutValidation("OData-Version", "4.0");
        return http;
    }

    static async Task<JsonElement> Json(HttpClient http, string url)
    {
        using var resp = await http.GetAsync(url);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == System.Net.HttpStatusCode.OK, $"{url} → {(int)resp.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Every row of a URL, following @odata.nextLink as Power Query does; also the number of pages.</summary>
    static async Task<(List<JsonElement> Rows, int Pages)> AllAsync(HttpClient http, string url)
    {
        var rows = new List<JsonElement>();
        var pages = 0;
        for (string? next = url; next is not null; pages++)
        {
            var page = await Json(http, next);
            rows.AddRange(page.GetProperty("value").EnumerateArray());
            next = page.TryGetProperty("@odata.nextLink", out var link) ? new Uri(link.GetString()!).PathAndQuery : null;
            Assert.True(pages < 200, "nextLink sans fin");
        }
        return (rows, pages);
    }

    [Fact]
    public async Task Power_Query_default_pattern_end_to_end_all_200()
    {
        var http = PowerQuery(db.App.CreateClient());

        // Navigator: service document, then $metadata.
        var service = await Json(http, "/odata");
        Assert.Contains(service.GetProperty("value").EnumerateArray(), s => s.GetProperty("name").GetString() == "Collectivites");
        var csdl = await http.GetStringAsync("/odata/$metadata");
        Assert.True(CsdlReader.TryParse(XmlReader.Create(new StringReader(csdl)), out var model, out var errors), string.Join("; ", errors ?? []));
        Assert.NotNull(model.EntityContainer.FindEntitySet("Collectivites"));

        // Loading the whole entity set: every page by nextLink, each row once.
        var (rows, pages) = await AllAsync(http, "/odata/Collectivites");
        var ids = rows.Select(r => r.GetProperty("Id").GetString()!).ToList();
        var expected = await db.ScalarAsync<long>("select count(*) from collectivite");
        Assert.Equal(expected, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal((int)((expected + 999) / 1000), pages);

        // "Keep top rows" beyond the page size: $top=5000 is served in pages of 1,000.
        var (top, topPages) = await AllAsync(http, "/odata/Collectivites?$top=5000&$select=Id");
        Assert.Equal(5000, top.Count);
        Assert.Equal(5, topPages);
        var first5000 = (await db.RowsAsync("select id from collectivite order by id limit 5000")).Select(r => (string)r[0]!).ToList();
        Assert.Equal(first5000, top.Select(r => r.GetProperty("Id").GetString()!).ToList());

        // A filter list with 100 ticked values: an 'or' chain of 'eq' on one property.
        var codes = (await db.RowsAsync("select code from collectivite where type = 'COM' and departement_code = '35' order by code limit 100"))
            .Select(r => (string)r[0]!).ToList();
        Assert.Equal(100, codes.Count);
        var filter = string.Join(" or ", codes.Select(c => $"Code eq '{c}'"));
        var (chosen, _) = await AllAsync(http, "/odata/Collectivites?$filter=" + Uri.EscapeDataString(filter) + "&$select=Code");
        var expectedChosen = (await db.RowsAsync("select code from collectivite where code = any($1) order by code collate \"C\"", new object[] { codes.ToArray() }))
            .Select(r => (string)r[0]!).ToList();
        Assert.Equal(expectedChosen, chosen.Select(r => r.GetProperty("Code").GetString()!).Order(StringComparer.Ordinal).ToList());

        // Clicking a navigation cell, a property, its raw value, a collection's count.
        var epci = await Json(http, "/odata/Collectivites('COM-35238')/Epci");
        var epciName = await db.ScalarAsync<string>("select e.name from collectivite c join collectivite e on e.siren = c.epci_siren and e.type in ('CC','CA','CU','MET') where c.id = 'COM-35238'");
        Assert.Equal(epciName, epci.GetProperty("Name").GetString());
        Assert.Equal("Rennes", (await Json(http, "/odata/Collectivites('COM-35238')/Name")).GetProperty("value").GetString());
        Assert.Equal("Rennes", await http.GetStringAsync("/odata/Collectivites('COM-35238')/Name/$value"));
        var epciId = epci.GetProperty("Id").GetString();
        var members = await db.ScalarAsync<long>("select count(*) from collectivite c join collectivite e on e.siren = c.epci_siren where e.id = $1 and c.type = 'COM'", epciId!);
        Assert.Equal(members.ToString(), await http.GetStringAsync($"/odata/Collectivites('{epciId}')/Members/$count"));
        var (memberRows, _) = await AllAsync(http, $"/odata/Collectivites('{epciId}')/Members?$select=Id");
        Assert.Equal(members, memberRows.Count);
        // A commune without EPCI has no Epci: 204, as OData says for a null single-valued navigation.
        using var none = await http.GetAsync("/odata/Collectivites('REG-53')/Epci");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, none.StatusCode);
    }

    [Fact]
    public async Task Orderby_puts_nulls_first_ascending_and_last_descending_as_OData_says()
    {
        var client = new ODataTestClient(db.App.CreateClient());
        var nulls = await db.ScalarAsync<long>("select count(*) from collectivite where population is null");
        Assert.True(nulls > 0);
        var (asc, _) = await client.GetAllAsync(Url.Of("Collectivites", ("$orderby", "Population"), ("$select", "Id,Population")), "Collectivites");
        var (desc, _) = await client.GetAllAsync(Url.Of("Collectivites", ("$orderby", "Population desc"), ("$select", "Id,Population")), "Collectivites");
        var expectedAsc = (await db.RowsAsync("select id from collectivite order by population asc nulls first, id")).Select(r => (string)r[0]!).ToList();
        var expectedDesc = (await db.RowsAsync("select id from collectivite order by population desc nulls last, id")).Select(r => (string)r[0]!).ToList();
        Assert.Equal(expectedAsc, asc.Select(r => (string)r["Id"]!).ToList());
        Assert.Equal(expectedDesc, desc.Select(r => (string)r["Id"]!).ToList());
        Assert.All(asc.Take((int)nulls), r => Assert.Null(r["Population"]));
        Assert.All(desc.TakeLast((int)nulls), r => Assert.Null(r["Population"]));
    }

    [Fact]
    public async Task Groupby_over_a_navigation_answers_every_page_with_the_group_of_rows_without_it()
    {
        var http = db.App.CreateClient();
        foreach (var accept in new[] { "application/json", "application/json;odata.metadata=full" })
        {
            var c = db.App.CreateClient();
            c.DefaultRequestHeaders.TryAddWithoutValidation("Accept", accept);
            var (rows, pages) = await AllAsync(c, "/odata/Collectivites?$apply=" + Uri.EscapeDataString("groupby((Epci/Name),aggregate($count as N))"));
            Assert.True(pages >= 2);
            var noEpci = await db.ScalarAsync<long>("""
                select count(*) from odata_collectivite c where c.epci_id is null
                    or not exists (select 1 from odata_collectivite e where e.id = c.epci_id)
                """);
            var withoutEpci = rows.Where(r => r.GetProperty("Epci").ValueKind == JsonValueKind.Null).ToList();
            Assert.Single(withoutEpci);
            Assert.Equal(noEpci, withoutEpci[0].GetProperty("N").GetInt64());
            Assert.Equal(await db.ScalarAsync<long>("select count(*) from collectivite"), rows.Sum(r => r.GetProperty("N").GetInt64()));
        }
    }

    [Fact]
    public async Task StatusOn_refuses_unknown_parameters_and_keys_and_HEAD_answers_like_GET()
    {
        var http = db.App.CreateClient();
        foreach (var url in new[] { "/odata/StatusOn(Date=2022-10-19)('COM-35238')", "/odata/StatusOn(Date=2022-10-19,Foo=1)" })
        {
            using var r = await http.GetAsync(url);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("StatusOn", await r.Content.ReadAsStringAsync());
        }
        foreach (var url in new[] { "/odata/Collectivites?$top=3", "/odata/$metadata", "/odata/Collectivites('COM-35238')/Name" })
        {
            using var get = await http.GetAsync(url);
            var body = await get.Content.ReadAsByteArrayAsync();
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
            Assert.Equal(System.Net.HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(body.Length, head.Content.Headers.ContentLength);
            Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task An_expensive_expand_ends_within_the_budget_and_other_requests_are_answered_meanwhile()
    {
        const double budget = 5;
        await using var app = db.App.WithWebHostBuilder(b => b.UseSetting("OData:RequestBudgetSeconds", budget.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var http = app.CreateClient();
        // Start-up (JIT, pool) outside the measure; on a loaded machine the first calls may use up the budget.
        for (var i = 0; i < 5 && !(await http.GetAsync("/odata/Collectivites('COM-35238')?$select=Name")).IsSuccessStatusCode; i++) { }

        var clock = Stopwatch.StartNew();
        var expensive = http.GetAsync("/odata/Collectivites?$expand=" + Uri.EscapeDataString("Members($expand=Members)") + "&$skip=30000");
        var others = new List<TimeSpan>();
        while (!expensive.IsCompleted && others.Count < 20)
        {
            var t = Stopwatch.StartNew();
            var page = await Json(http, "/odata/Collectivites('COM-35238')?$select=Name");
            Assert.Equal("Rennes", page.GetProperty("Name").GetString());
            others.Add(t.Elapsed);
        }
        using var resp = await expensive;
        var took = clock.Elapsed;
        var text = await resp.Content.ReadAsStringAsync();
        // Either it fits in the budget (a complete 200) or it is stopped there with a clear 503.
        if (resp.StatusCode != System.Net.HttpStatusCode.OK)
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            Assert.Equal("QueryTimeout", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.NotNull(resp.Headers.RetryAfter);
        }
        else JsonDocument.Parse(text);
        Assert.True(took < TimeSpan.FromSeconds(budget + 5), $"fini en {took.TotalSeconds:0.0} s pour un budget de {budget} s");
        Assert.NotEmpty(others); // answered while the expensive request ran
        // The database is free again: nothing of this database still runs.
        await Task.Delay(200);
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()"));
    }
}
