using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Observatoire.Data;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Hardening;

/// <summary>
/// PostgreSQL restarted while clients read: during the outage only 503s (with Retry-After and a
/// problem body, /health saying "unreachable"), never a 500, and everything answers again by itself
/// within seconds. Runs on a throw-away cluster of its own (port 5500-5549, data under /var/tmp),
/// never on the shared one; loopback only; every loop is bounded. And a server up without the configured
/// database (dropped, or a wrong name in the connection string): 503s too, never a 500.
/// </summary>
public sealed class DatabaseRestartTests
{
    static readonly string[] Urls = ["/health", "/api/progress", "/api/indicators", "/odata/Milestones", "/odata/Collectivites?$top=5", "/api/search?q=rennes", "/api/geo/regions?zoom=5"];

    [Fact]
    public async Task A_restart_under_reads_gives_only_503s_and_recovers_by_itself()
    {
        await using var cluster = await ThrowAwayCluster.CreateAsync();
        var cs = cluster.ConnectionString();
        {
            // The outage is the test: EF's error log of each refused connection is expected (the app's own
            // warning, DatabaseUnavailableHandler, still says what happened).
            await using var app = TestApp.On(cs, b => b.ConfigureLogging(l => l.AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.Critical)));
            var client = app.CreateClient();
            // What each address answers while the database is up (an empty database: some 404/400, all below 500).
            var baseline = new Dictionary<string, HttpStatusCode>();
            foreach (var u in Urls)
            {
                baseline[u] = (await client.GetAsync(u)).StatusCode;
                Assert.True((int)baseline[u] < 500, $"{u} : {baseline[u]}");
            }

            var seen = new ConcurrentBag<(string Url, HttpStatusCode Status, bool RetryAfter, string Body)>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90)); // bound of the readers, whatever happens
            var readers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
            {
                for (var n = 0; n < 5000 && !stop.IsCancellationRequested; n++)
                {
                    var u = Urls[(i + n) % Urls.Length];
                    try
                    {
                        var r = await client.GetAsync(u, stop.Token);
                        seen.Add((u, r.StatusCode, r.Headers.RetryAfter is not null, await r.Content.ReadAsStringAsync(stop.Token)));
                    }
                    catch (OperationCanceledException) { return; }
                    catch (HttpRequestException e) { seen.Add((u, 0, false, "réponse interrompue : " + e.InnerException?.Message)); }
                    await Task.Delay(20);
                }
            })).ToArray();

            await Task.Delay(500);
            await cluster.StopAsync();
            await Task.Delay(2000); // clients read while the database is down
            var health = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("\"unreachable\"", await health.Content.ReadAsStringAsync());
            await cluster.StartAsync();

            // Back by itself: every address answers as before within 10 s.
            var started = Stopwatch.StartNew();
            var recovered = false;
            while (!recovered && started.Elapsed < TimeSpan.FromSeconds(10))
            {
                recovered = true;
                foreach (var u in Urls) recovered &= (await client.GetAsync(u)).StatusCode == baseline[u];
                if (!recovered) await Task.Delay(100);
            }
            var recovery = started.Elapsed;
            stop.Cancel();
            await Task.WhenAll(readers);

            Assert.True(recovered, $"pas revenu en 10 s");
            var unavailable = seen.Where(s => s.Status == HttpStatusCode.ServiceUnavailable).ToList();
            Assert.NotEmpty(unavailable);
            Assert.All(seen, s => Assert.True(s.Status == baseline[s.Url] || s.Status == HttpStatusCode.ServiceUnavailable, $"{s.Url} : {s.Status} {s.Body}"));
            Assert.All(unavailable, s =>
            {
                Assert.True(s.RetryAfter, s.Url);
                Assert.Contains(s.Url.StartsWith("/odata") ? "\"error\"" : s.Url == "/health" ? "\"unreachable\"" : "\"title\"", s.Body);
                Assert.DoesNotContain("   at ", s.Body);
            });
            Console.WriteLine($"Redémarrage : {seen.Count} réponses, {unavailable.Count} × 503, reprise en {recovery.TotalSeconds:F1} s");
        }
    }

    [Fact]
    public async Task A_configured_database_that_does_not_exist_gives_503s_and_health_says_why()
    {
        var missing = new NpgsqlConnectionStringBuilder(TestEnvironment.AdminConnection) { Database = $"obs_test_missing_{Guid.NewGuid():N}"[..40] };
        // PostgreSQL's refusal is the test: EF's error logs of each refused connection and query are expected.
        await using var app = TestApp.On(missing.ConnectionString, b => b.ConfigureLogging(l => l
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.Critical)
            .AddFilter("Microsoft.EntityFrameworkCore.Query", LogLevel.Critical)));
        var client = app.CreateClient();
        var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("\"unreachable\"", await health.Content.ReadAsStringAsync());
        foreach (var u in Urls.Concat(["/tiles/communes/8/127/88.pbf", "/api/reports/regions.csv", "/api/collectivites/COM-35238", "/odata/Collectivites('COM-35238')/Epci"]))
        {
            var r = await client.GetAsync(u);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.ServiceUnavailable, $"{u} : {(int)r.StatusCode} {body}");
            Assert.NotNull(r.Headers.RetryAfter);
            using var json = System.Text.Json.JsonDocument.Parse(body);
            var message = u.StartsWith("/odata", StringComparison.Ordinal)
                ? json.RootElement.GetProperty("error").GetProperty("message").GetString()
                : json.RootElement.GetProperty("detail").GetString();
            Assert.Contains("La base de données ne répond pas", message);
        }
    }
}
