using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Observatoire.Contributions;
using Observatoire.Data;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Contributions;

/// <summary>
/// Acknowledged means durable: editors write while PostgreSQL crashes (an immediate stop, WAL replayed
/// at the restart) on a throw-away cluster; each client retries a refused or unanswered write with the
/// same Idempotency-Key (bounded). Afterwards every acknowledged observation is there, none twice.
/// </summary>
[LongChain(27)]
public sealed class ContributionDurabilityTests
{
    [Fact]
    public async Task Writes_acknowledged_across_a_crash_are_all_kept_and_none_twice()
    {
        await using var cluster = await ThrowAwayCluster.CreateAsync();
        var cs = cluster.ConnectionString();
        string key;
        await using (var ds = Database.CreateDataSource(cs))
        {
            // Three communes are enough for the write path (no geometry, no ATD: an administrator's key).
            await using (var cmd = ds.CreateCommand("""
                insert into collectivite (id, code, type, name, zone, is_overseas_collectivity, search_name, vintage)
                values ('COM-35238', '35238', 'COM', 'Rennes', 'metro', false, 'rennes', 'test'),
                       ('COM-35047', '35047', 'COM', 'Bruz', 'metro', false, 'bruz', 'test'),
                       ('COM-35024', '35024', 'COM', 'Betton', 'metro', false, 'betton', 'test')
                """)) await cmd.ExecuteNonQueryAsync();
            key = (await ApiKeys.CreateAsync(ds, "durabilité", Contributor.Admin, null, null)).Key;
        }

        await using var app = TestApp.On(cs, b => b.ConfigureLogging(l => l.AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.Critical)));
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        string[] communes = ["COM-35238", "COM-35047", "COM-35024"];

        var acknowledged = new ConcurrentDictionary<string, long>();
        var started = new ConcurrentBag<string>();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var outagesOver = false;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120)); // bound, whatever happens
        // Each writer writes until the outages are over (and 20 writes at least), one at a time, paced.
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var n = 0; (n < 20 || !Volatile.Read(ref outagesOver)) && n < 1000 && !stop.IsCancellationRequested; n++)
            {
                var idem = $"w{w}-n{n}";
                started.Add(idem);
                var body = JsonSerializer.Serialize(new { collectivite = communes[(w + n) % 3], observedOn = "2026-01-15", datasetsLocal = n, note = idem });
                for (var attempt = 0; attempt < 100 && !stop.IsCancellationRequested; attempt++)
                {
                    using var req = new HttpRequestMessage(HttpMethod.Post, "/api/observations") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    req.Headers.Add("Idempotency-Key", idem);
                    try
                    {
                        var r = await client.SendAsync(req, stop.Token);
                        statuses.Add(r.StatusCode);
                        if (r.StatusCode == HttpStatusCode.Created)
                        {
                            var id = (await r.Content.ReadFromJsonAsync<JsonElement>(stop.Token)).GetProperty("id").GetInt64();
                            Assert.Equal(id, acknowledged.GetOrAdd(idem, id));
                            break;
                        }
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                    }
                    catch (HttpRequestException) { /* no answer: retried with the same key */ }
                    catch (OperationCanceledException) { return; }
                    await Task.Delay(200);
                }
                await Task.Delay(50);
            }
        })).ToArray();

        await Task.Delay(1000);
        await cluster.StopAsync("immediate");
        await Task.Delay(1500);
        await cluster.StartAsync();
        await Task.Delay(1000);
        await cluster.StopAsync("immediate");
        await Task.Delay(500);
        await cluster.StartAsync();
        Volatile.Write(ref outagesOver, true);
        await Task.WhenAll(writers);
        Assert.False(stop.IsCancellationRequested, "les écritures n'ont pas fini en 120 s");

        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);   // the outages were seen
        Assert.Equal(started.Count, acknowledged.Count);                // every write was acknowledged in the end
        NpgsqlConnection.ClearAllPools();
        await using var check = Database.CreateDataSource(cs);
        var rows = await check.RowsAsync("select note, id from observation where source = 'contribution'");
        Assert.Equal(rows.Count, rows.Select(r => (string)r[0]!).Distinct().Count());   // none twice
        var stored = rows.ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        Assert.All(acknowledged, a => Assert.Equal(a.Value, stored.GetValueOrDefault(a.Key)));  // none lost
        Assert.Equal(started.Count, stored.Count);
        Console.WriteLine($"Durabilité : {statuses.Count} réponses dont {statuses.Count(s => s == HttpStatusCode.ServiceUnavailable)} × 503, {stored.Count} écritures gardées");
    }
}
