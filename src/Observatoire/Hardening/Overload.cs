using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Observatoire.Hardening;

/// <summary>Limits of the work the service accepts (section <c>RateLimits</c> of appsettings.json).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Per-client (remote address) token buckets on the expensive endpoints; false turns them off (the tests do).</summary>
    public bool PerClient { get; set; } = true;
    /// <summary>OData and fine GeoJSON: requests per minute and per client, and the burst allowed on top.</summary>
    public int ExpensivePerMinute { get; set; } = 300;
    public int ExpensiveBurst { get; set; } = 60;
    /// <summary>Reports (PDF, XLSX, CSV, charts): requests per minute and per client, and the burst.</summary>
    public int ReportsPerMinute { get; set; } = 30;
    public int ReportsBurst { get; set; } = 10;
    /// <summary>Expensive requests computed at once (whoever sends them), and how many may wait; beyond: 503.</summary>
    public int ExpensiveConcurrency { get; set; } = 4;
    public int ExpensiveQueue { get; set; } = 100;
    /// <summary>Other requests that reach the database at once, and how many may wait.</summary>
    public int CheapConcurrency { get; set; } = 12;
    public int CheapQueue { get; set; } = 1000;
    /// <summary>GeoJSON of areas from this zoom on (and communes at any zoom) is expensive.</summary>
    public int GeoFineZoom { get; set; } = 8;
}

/// <summary>
/// Keeps the database pool from being the thing that fails under load. Every request that reaches
/// the endpoints (cached answers and static files are served before this) is classified:
/// <list type="bullet">
/// <item><b>expensive</b>: OData queries, reports, GeoJSON of communes or at fine zooms, tiles rendered
/// on request (deeper than the tile store, or filtered). At most <see cref="RateLimitOptions.ExpensiveConcurrency"/>
/// run at once, the next ones wait in a bounded queue (503 + Retry-After when full); OData, GeoJSON
/// and reports also take a token from the client's bucket (429 + Retry-After when empty).</item>
/// <item><b>cheap</b>: everything else that reads the database, bounded by its own concurrency so that
/// expensive + cheap + /health stay within the pool (Maximum Pool Size=20 in the connection string).</item>
/// <item><b>exempt</b>: /health, which must answer while the rest is saturated.</item>
/// </list>
/// Clients are told apart by remote address: behind a reverse proxy, configure forwarded headers.
/// </summary>
public static class Overload
{
    public enum Kind { Exempt, Cheap, Expensive, ExpensivePerClient, Report }

    public static Kind Classify(HttpRequest req, RateLimitOptions o, int tileStoreMaxZoom)
    {
        var path = req.Path.Value ?? "";
        if (path.StartsWith("/health", StringComparison.OrdinalIgnoreCase)) return Kind.Exempt;
        if (path.StartsWith("/api/reports/", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/api/snapshots", StringComparison.OrdinalIgnoreCase)) return Kind.Report;
        if (path.StartsWith("/odata", StringComparison.OrdinalIgnoreCase))
            return path.TrimEnd('/').Length <= "/odata".Length || path.EndsWith("/$metadata", StringComparison.OrdinalIgnoreCase)
                ? Kind.Cheap : Kind.ExpensivePerClient;
        if (path.StartsWith("/api/geo/", StringComparison.OrdinalIgnoreCase))
        {
            var fine = path.EndsWith("/communes", StringComparison.OrdinalIgnoreCase)
                || int.TryParse(req.Query["zoom"], NumberStyles.None, CultureInfo.InvariantCulture, out var z) && z >= o.GeoFineZoom;
            return fine ? Kind.ExpensivePerClient : Kind.Cheap;
        }
        if (path.StartsWith("/tiles/", StringComparison.OrdinalIgnoreCase))
        {
            // /tiles/{layer}/{z}/{x}/{y}.pbf: a default-view tile within the store's zooms is read, not rendered.
            var parts = path.Split('/');
            var stored = req.QueryString.HasValue is false && parts.Length == 6 && parts[2] == "communes"
                && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var tz) && tz <= tileStoreMaxZoom;
            return stored ? Kind.Cheap : Kind.Expensive;
        }
        return Kind.Cheap;
    }

    public static IServiceCollection AddOverloadLimits(this IServiceCollection services, IConfiguration config)
    {
        var o = config.GetSection("RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        var tileStoreMaxZoom = config.GetValue("Map:TileStoreMaxZoom", 10);
        services.AddRateLimiter(r =>
        {
            var perClient = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            {
                var kind = Classify(ctx.Request, o, tileStoreMaxZoom);
                if (!o.PerClient || kind is not (Kind.Report or Kind.ExpensivePerClient)) return RateLimitPartition.GetNoLimiter("none");
                var client = ctx.Connection.RemoteIpAddress?.ToString() ?? "local";
                var (perMinute, burst) = kind == Kind.Report ? (o.ReportsPerMinute, o.ReportsBurst) : (o.ExpensivePerMinute, o.ExpensiveBurst);
                return RateLimitPartition.GetTokenBucketLimiter($"{kind}:{client}", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = Math.Max(1, perMinute / 60),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(perMinute >= 60 ? 1 : 60.0 / Math.Max(1, perMinute)),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            var concurrency = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
                Classify(ctx.Request, o, tileStoreMaxZoom) switch
                {
                    Kind.Exempt => RateLimitPartition.GetNoLimiter("exempt"),
                    Kind.Cheap => RateLimitPartition.GetConcurrencyLimiter("cheap", _ => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = o.CheapConcurrency, QueueLimit = o.CheapQueue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    }),
                    _ => RateLimitPartition.GetConcurrencyLimiter("expensive", _ => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = o.ExpensiveConcurrency, QueueLimit = o.ExpensiveQueue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    }),
                });
            // The client's bucket first: a client over its rate is refused without taking a place in the queue.
            r.GlobalLimiter = PartitionedRateLimiter.CreateChained(perClient, concurrency);
            r.OnRejected = async (context, _) =>
            {
                var ctx = context.HttpContext;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
                {
                    var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                    await ServiceProblems.WriteAsync(ctx, StatusCodes.Status429TooManyRequests, "Trop de requêtes",
                        $"Ce client a dépassé le nombre de requêtes coûteuses permis (rapports, OData, GeoJSON détaillé) ; réessayez dans {seconds} s.",
                        seconds);
                }
                else
                    await ServiceProblems.WriteAsync(ctx, StatusCodes.Status503ServiceUnavailable, "Service saturé",
                        "Trop de calculs coûteux sont en attente ; réessayez dans quelques secondes. Les tuiles et les réponses en cache restent servies.",
                        2);
            };
        });
        return services;
    }
}
