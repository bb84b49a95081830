using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Observatoire.Map;

/// <summary>
/// The data release (<c>max(data_release.id)</c>) as this process last read it. Every import adds a
/// release row, so a new id means new answers. Importers run in another process (the CLI), so the
/// web server cannot be told: it re-reads the id at most every <see cref="MapOptions.ReleaseCheckSeconds"/>
/// seconds, which bounds how long a stale answer can be served after an import.
/// </summary>
public sealed class DataReleaseClock(NpgsqlDataSource db, IOptions<MapOptions> options)
{
    readonly long ttl = Stopwatch.Frequency * Math.Max(0, options.Value.ReleaseCheckSeconds);
    int release;
    long readAt = long.MinValue;

    public async ValueTask<int> CurrentAsync(CancellationToken ct)
    {
        var now = Stopwatch.GetTimestamp();
        if (readAt != long.MinValue && now - Volatile.Read(ref readAt) < ttl) return Volatile.Read(ref release);
        await using var cmd = db.CreateCommand("select coalesce(max(id), 0) from data_release");
        cmd.CommandTimeout = 5;
        var r = (int)(await cmd.ExecuteScalarAsync(ct))!;
        Volatile.Write(ref release, r);
        Volatile.Write(ref readAt, now);
        return r;
    }

    /// <summary>Forget the last reading (an in-process import just committed).</summary>
    public void Invalidate() => Volatile.Write(ref readAt, long.MinValue);
}

/// <summary>
/// Caching of the map answers by data release: a strong ETag ("r{release}-{hash of the request}-{encoding}")
/// checked before any query (304), <c>Cache-Control: public</c>, and the ASP.NET output cache,
/// tagged <see cref="Tag"/> and varied by the release so that a new release is never answered from an
/// old entry, even when no one evicted it.
/// </summary>
public static class MapCache
{
    public const string Tag = "data";
    public const string Policy = "map";

    /// <summary>Every query parameter read by an endpoint under this policy (GeoJSON, tiles, search, cards).</summary>
    public static readonly string[] QueryKeys =
        ["zoom", "bbox", "q", "type", "band", "obliged", "open", "atd", "region", "departement", "date"];

    /// <summary>
    /// For an importer running inside the web process: drop every cached map answer now. (Imports run
    /// by the CLI cannot reach this process; there the release id in the ETag and in the cache key is
    /// what keeps answers fresh, within <see cref="MapOptions.ReleaseCheckSeconds"/>.)
    /// </summary>
    public static async Task EvictAsync(IServiceProvider services, CancellationToken ct = default)
    {
        services.GetRequiredService<DataReleaseClock>().Invalidate();
        await services.GetRequiredService<IOutputCacheStore>().EvictByTagAsync(Tag, ct);
    }

    /// <summary>
    /// Sets ETag and Cache-Control; returns true (and answers 304) when the client already holds this
    /// representation. The encoding the compression middleware will choose is part of the tag: a gzip
    /// and an identity body are different bytes, so they must not share a strong ETag.
    /// </summary>
    public static async ValueTask<bool> NotModifiedAsync(HttpContext http, CancellationToken ct)
    {
        var release = await http.RequestServices.GetRequiredService<DataReleaseClock>().CurrentAsync(ct);
        var req = http.Request;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(req.Path.Value + req.QueryString.Value));
        var compression = http.RequestServices.GetService<IResponseCompressionProvider>();
        var encoding = compression is not null && compression.CheckRequestAcceptsCompression(http)
            ? compression.GetCompressionProvider(http)?.EncodingName : null;
        var etag = $"\"r{release}-{Convert.ToHexStringLower(hash, 0, 8)}{(encoding is null ? "" : "-" + encoding)}\"";

        var maxAge = http.RequestServices.GetRequiredService<IOptions<MapOptions>>().Value.BrowserMaxAgeSeconds;
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = $"public, max-age={maxAge}";
        foreach (var candidate in req.Headers.IfNoneMatch)
            foreach (var t in (candidate ?? "").Split(','))
                if (t.Trim() == etag || t.Trim() == "*")
                {
                    http.Response.StatusCode = StatusCodes.Status304NotModified;
                    return true;
                }
        return false;
    }

    /// <summary>
    /// For an answer that is already a stored copy (a pre-rendered tile): keep it out of the output
    /// cache, which would only hold a second copy of it in memory.
    /// </summary>
    public static void DoNotStore(HttpContext http)
    {
        if (http.Features.Get<IOutputCacheFeature>() is { } f) f.Context.AllowCacheStorage = false;
    }

    /// <summary>
    /// What makes an output cache entry one release's (the map's and OData's policies): the release is part of
    /// the key, the entry lives <paramref name="minutes"/> at most and carries <see cref="Tag"/> for eviction.
    /// </summary>
    public static async ValueTask KeepPerReleaseAsync(OutputCacheContext context, int minutes, CancellationToken ct)
    {
        var release = await context.HttpContext.RequestServices.GetRequiredService<DataReleaseClock>().CurrentAsync(ct);
        context.CacheVaryByRules.VaryByValues["release"] = release.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.ResponseExpirationTimeSpan = TimeSpan.FromMinutes(minutes);
        context.Tags.Add(Tag);
    }

    /// <summary>Output cache policy of the map endpoints (see the class summary).</summary>
    sealed class ReleasePolicy : IOutputCachePolicy
    {
        public async ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken ct)
        {
            var req = context.HttpContext.Request;
            var cacheable = HttpMethods.IsGet(req.Method) || HttpMethods.IsHead(req.Method);
            var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<MapOptions>>().Value;
            context.EnableOutputCaching = true;
            // "Cache-Control: no-cache" from the public must not buy a recomputation (issue #14): it is
            // honoured only when Map:HonourClientNoCache is set (the benchmark of the uncached path).
            context.AllowCacheLookup = cacheable && !(options.HonourClientNoCache
                && (req.Headers.CacheControl.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase)
                    || req.Headers.Pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase)));
            context.AllowCacheStorage = cacheable;
            context.AllowLocking = true;
            // Only the parameters an endpoint reads make a new entry: ?x=1, ?x=2... are one entry, not
            // a recomputation each (issue #14). A new parameter of a cached endpoint must be added here.
            context.CacheVaryByRules.QueryKeys = QueryKeys;
            context.CacheVaryByRules.HeaderNames = "Accept-Encoding";
            await KeepPerReleaseAsync(context, options.OutputCacheMinutes, ct);
        }

        public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken ct) => ValueTask.CompletedTask;

        public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken ct)
        {
            // Only full answers and empty tiles; never errors, 304s or anything carrying a cookie.
            var res = context.HttpContext.Response;
            if (res.StatusCode is not (StatusCodes.Status200OK or StatusCodes.Status204NoContent) || res.Headers.SetCookie.Count > 0)
                context.AllowCacheStorage = false;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Services of the map: options, release clock, output cache, gzip/brotli.</summary>
    public static IServiceCollection AddMap(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<MapOptions>(config.GetSection("Map"));
        services.AddSingleton<DataReleaseClock>();
        services.AddOutputCache(o =>
        {
            o.AddPolicy(Policy, new ReleasePolicy());
            o.MaximumBodySize = 16 * 1024 * 1024;
        });
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;   // no secrets in these answers: BREACH does not apply
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(
                ["application/geo+json", "application/vnd.mapbox-vector-tile", "application/problem+json", "image/svg+xml"]);
        });
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return services;
    }

    /// <summary>
    /// Middleware of the map, in this order: the output cache outermost, so it stores (and replays)
    /// already-compressed bodies; compression next, so static files are compressed too; then the
    /// page itself (index.html at /).
    /// </summary>
    public static WebApplication UseMap(this WebApplication app)
    {
        app.UseOutputCache();
        app.UseResponseCompression();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }
}
