using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// Every command or batch an app sends to PostgreSQL, one entry per round trip, as Npgsql traces them
/// (its ActivitySource): statements sent outside EF, such as the OData page and its count in one batch,
/// included. The app is the shared one, under an Application Name of its own that tells its connections
/// from those of the other tests running at the same time.
/// </summary>
public sealed class RoundTrips : IDisposable
{
    readonly string name = "obs-test-" + Guid.NewGuid().ToString("N")[..12];
    readonly ActivityListener listener;
    readonly List<string> sent = [];

    public RoundTrips()
    {
        listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.GetTagItem("db.npgsql.data_source") is string source && source.Contains(name)
                    && a.GetTagItem("db.query.text") is string sql)
                    lock (sent) sent.Add(sql);
            },
        };
        ActivitySource.AddActivityListener(listener);
    }

    /// <summary>The query text of each round trip so far (a batch's statements in one entry).</summary>
    public List<string> Sent { get { lock (sent) return [.. sent]; } }

    public void Clear() { lock (sent) sent.Clear(); }

    public WebApplicationFactory<Program> On(TestDatabase db) =>
        db.App.WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:Observatoire", $"{db.ConnectionString};Application Name={name}"));

    public void Dispose() => listener.Dispose();
}
