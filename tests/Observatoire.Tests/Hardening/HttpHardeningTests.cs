using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Observatoire.Hardening;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Hardening;

/// <summary>Bad bytes, limits of the request, rate limits, the cache key and the response headers.</summary>
public sealed class HttpHardeningTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    WebApplicationFactory<Program> App(params (string Key, string Value)[] settings) => db.App.WithWebHostBuilder(b =>
    {
        foreach (var (k, v) in settings) b.UseSetting(k, v);
    });

    /// <summary>A problem body (RFC 7807, French title) or, under /odata, the OData error format; returns its text.</summary>
    internal static async Task<string> AssertProblemAsync(HttpResponseMessage r, string path)
    {
        var body = await r.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        if (path.StartsWith("/odata", StringComparison.Ordinal))
        {
            Assert.StartsWith("application/json", r.Content.Headers.ContentType?.MediaType);
            Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("error").GetProperty("message").GetString()));
        }
        else
        {
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("title").GetString()));
            Assert.Equal((int)r.StatusCode, doc.RootElement.GetProperty("status").GetInt32());
        }
        Assert.DoesNotContain("   at ", body); // never a stack trace
        return body;
    }

    [Theory]
    [InlineData("/api/search?q=%00")]
    [InlineData("/api/search?q=ren%00nes")]
    [InlineData("/api/search?q=%1F")]
    [InlineData("/api/search?q=%zz")]
    [InlineData("/api/search?q=%C3%28")]
    [InlineData("/api/search?q=abc%")]
    [InlineData("/api/indicators?date=%00")]
    [InlineData("/api/collectivites/COM-%0035238")]
    [InlineData("/api/geo/regions?zoom=%7F")]
    [InlineData("/odata/Collectivites?$filter=Name%20eq%20%27%00%27")]
    [InlineData("/odata/Collectivites?$filter=%FF")]
    [InlineData("/api/reports/regions.csv?region=%00")]
    public async Task Bad_bytes_get_a_400_problem_body(string url)
    {
        var ctx = await RouteFuzzTests.RawGetAsync(db.App.Server, url);
        Assert.Equal(400, ctx.Response.StatusCode);
        var body = await new StreamReader(ctx.Response.Body).ReadToEndAsync();
        if (url.StartsWith("/odata", StringComparison.Ordinal))
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString()));
        else
        {
            Assert.StartsWith("application/problem+json", ctx.Response.ContentType);
            Assert.Equal("Adresse invalide", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task Too_long_addresses_and_too_large_headers_get_414_and_431_problem_bodies()
    {
        var client = db.App.CreateClient();
        var longUrl = "/api/search?q=" + new string('a', 9000);
        var r = await client.GetAsync(longUrl);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, r.StatusCode);
        await AssertProblemAsync(r, longUrl);

        var odataLong = "/odata/Collectivites?$filter=" + string.Join("%20or%20", Enumerable.Repeat("Code%20eq%20%2735238%27", 500));
        r = await client.GetAsync(odataLong);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, r.StatusCode);
        await AssertProblemAsync(r, odataLong);

        using var req = new HttpRequestMessage(HttpMethod.Get, "/api/progress");
        req.Headers.Add("Cookie", new string('c', 40_000));
        r = await client.SendAsync(req);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, r.StatusCode);
        await AssertProblemAsync(r, "/api/progress");
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_retry_after_and_others_are_not_affected()
    {
        await using var app = App(("RateLimits:PerClient", "true"), ("RateLimits:ExpensiveBurst", "3"), ("RateLimits:ExpensivePerMinute", "1"),
            ("RateLimits:ReportsBurst", "2"), ("RateLimits:ReportsPerMinute", "1"));
        var client = app.CreateClient();
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++) statuses.Add(await client.GetAsync($"/odata/Milestones?$top={i + 1}"));
        Assert.Equal(3, statuses.Count(s => s.StatusCode == HttpStatusCode.OK));
        var refused = statuses.Where(s => s.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(5, refused.Count);
        foreach (var r in refused)
        {
            Assert.True(r.Headers.RetryAfter?.Delta is { } d && d.TotalSeconds >= 1);
            Assert.Contains("\"TooManyRequests\"", await AssertProblemAsync(r, "/odata"));
        }

        var reports = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++) reports.Add((await client.GetAsync("/api/reports/regions.csv")).StatusCode);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], reports);

        // Cheap requests are not counted: the progress and the health still answer.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/progress")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Expensive_work_beyond_the_queue_gets_503_with_retry_after_and_cheap_requests_still_answer()
    {
        await using var app = App(("RateLimits:ExpensiveConcurrency", "1"), ("RateLimits:ExpensiveQueue", "1"));
        var client = app.CreateClient();
        // Ten reports at once (each takes a while): one runs, one waits, the rest are refused.
        var tasks = Enumerable.Range(0, 10).Select(i => client.GetAsync($"/api/reports/charts/regions.svg?date=2022-10-{10 + i}")).ToArray();
        var cheap = await client.GetAsync("/api/progress");
        var all = await Task.WhenAll(tasks);
        Assert.Equal(HttpStatusCode.OK, cheap.StatusCode);
        Assert.All(all, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
        var refused = all.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(refused);
        Assert.True(all.Count(r => r.StatusCode == HttpStatusCode.OK) >= 2);
        foreach (var r in refused)
        {
            Assert.NotNull(r.Headers.RetryAfter);
            Assert.Contains("saturé", await AssertProblemAsync(r, "/api"));
        }
    }

    [Fact]
    public void Database_errors_are_told_apart_as_unreachable_or_saturated()
    {
        Assert.Equal(DatabaseTrouble.Saturated, ServiceProblems.Classify(new Npgsql.PostgresException("trop de connexions", "FATAL", "FATAL", "53300")));
        Assert.Equal(DatabaseTrouble.Saturated, ServiceProblems.Classify(new Npgsql.PostgresException("délai", "ERROR", "ERROR", "57014")));
        Assert.Equal(DatabaseTrouble.Saturated, ServiceProblems.Classify(
            new InvalidOperationException("wrap", new Npgsql.NpgsqlException("The connection pool has been exhausted", new TimeoutException()))));
        Assert.Equal(DatabaseTrouble.Unreachable, ServiceProblems.Classify(new Npgsql.PostgresException("arrêt", "FATAL", "FATAL", "57P01")));
        Assert.Equal(DatabaseTrouble.Unreachable, ServiceProblems.Classify(
            new Npgsql.NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))));
        Assert.Null(ServiceProblems.Classify(new Npgsql.PostgresException("syntaxe", "ERROR", "ERROR", "42601")));
        Assert.Null(ServiceProblems.Classify(new ArgumentException("x")));
    }

    [Fact]
    public async Task No_cache_from_the_public_and_unknown_parameters_are_answered_from_the_cache()
    {
        await using var app = App();
        var client = app.CreateClient();
        var first = await client.GetAsync("/api/geo/departements?zoom=5&type=COM");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Null(first.Headers.Age);

        using var noCache = new HttpRequestMessage(HttpMethod.Get, "/api/geo/departements?zoom=5&type=COM");
        noCache.Headers.Add("Cache-Control", "no-cache");
        noCache.Headers.Add("Pragma", "no-cache");
        var second = await client.SendAsync(noCache);
        Assert.NotNull(second.Headers.Age); // served by the output cache
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());

        var unknown = await client.GetAsync("/api/geo/departements?zoom=5&type=COM&cachebuster=12345");
        Assert.NotNull(unknown.Headers.Age);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await unknown.Content.ReadAsByteArrayAsync());

        // A parameter the endpoint reads still makes a different answer.
        var other = await client.GetAsync("/api/geo/departements?zoom=5&type=CC");
        Assert.Null(other.Headers.Age);

        // The benchmark's switch honours no-cache again.
        await using var bench = App(("Map:HonourClientNoCache", "true"));
        var b = bench.CreateClient();
        await b.GetAsync("/api/geo/departements?zoom=5&type=COM");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/geo/departements?zoom=5&type=COM");
        again.Headers.Add("Cache-Control", "no-cache");
        Assert.Null((await b.SendAsync(again)).Headers.Age);
    }

    [Fact]
    public async Task Every_answer_carries_the_security_headers_and_only_public_data_is_open_to_other_sites()
    {
        var client = db.App.CreateClient();
        foreach (var url in new[] { "/", "/api/progress", "/odata/Milestones", "/api/search?q=%00", "/nulle-part" })
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            req.Headers.Add("Origin", "https://autre-site.example");
            var r = await client.SendAsync(req);
            var csp = string.Join(";", r.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp);
            Assert.Contains("style-src 'self'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);   // neither inline script nor inline style, attributes included
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", r.Headers.GetValues("X-Frame-Options").Single());
            Assert.True(r.Headers.Contains("Referrer-Policy"));
            Assert.False(r.Headers.Contains("Server"));
            var cors = r.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null;
            Assert.Equal(url is "/" or "/nulle-part" ? null : "*", cors);
        }

        // Preflight: GET from another site is allowed, a write is not.
        using var getPreflight = new HttpRequestMessage(HttpMethod.Options, "/api/progress");
        getPreflight.Headers.Add("Origin", "https://autre-site.example");
        getPreflight.Headers.Add("Access-Control-Request-Method", "GET");
        var ok = await client.SendAsync(getPreflight);
        Assert.Equal("*", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var postPreflight = new HttpRequestMessage(HttpMethod.Options, "/api/progress");
        postPreflight.Headers.Add("Origin", "https://autre-site.example");
        postPreflight.Headers.Add("Access-Control-Request-Method", "POST");
        var refused = await client.SendAsync(postPreflight);
        // The browser sends the POST only if the answer lists it: it never does.
        Assert.DoesNotContain("POST", refused.Headers.TryGetValues("Access-Control-Allow-Methods", out var methods) ? string.Join(",", methods) : "");
    }
}
