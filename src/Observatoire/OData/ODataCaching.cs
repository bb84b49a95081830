using System.Globalization;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Net.Http.Headers;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.OData;

/// <summary>
/// OData answers kept in the ASP.NET output cache per data release, as the map's are (<see cref="MapCache"/>):
/// Excel and Power BI send the same queries at every refresh, and between two releases the answer is the
/// same bytes. The entry is the exact request: path and query string compared as sent (key values and
/// literals are case-sensitive, so the cache's own case-insensitive key is not enough), the headers the
/// OData writer reads (metadata level, Prefer, versions, compression), the release and the French day
/// (<c>CollectiviteStatuses</c> and the <c>StatusOn</c> defaults read it). Only complete 200 answers are
/// kept; the audit log and any request carrying credentials never are. Memory is bounded with the map's
/// entries by the output cache's size limit (100 MB, least recently used first out). OData:CacheResponses=false
/// turns it off (scripts/bench-odata.sh measures both).
/// <para>An answer is kept from its second request on (<c>OData:CacheMinUses</c>, 2, or 1 for the first; nginx's
/// <c>proxy_cache_min_uses</c>): a URL asked once — each page of a script's scan by nextLink, a one-off
/// filter — is computed and never copied into the cache, where it would push out the map's tiles and cost
/// 130 KB of buffers and about 6 % of its CPU for a page of 100 rows (docs/benchmarks.md).</para>
/// </summary>
public sealed class ODataCachePolicy(bool enabled, int minutes, int minUses = 2) : IOutputCachePolicy
{
    public const string Name = "odata";

    static readonly string[] Headers =
        [HeaderNames.Accept, HeaderNames.AcceptCharset, HeaderNames.AcceptEncoding, "Prefer", "OData-MaxVersion", "OData-Version"];

    public async ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken ct)
    {
        var req = context.HttpContext.Request;
        // ODataGuard has already turned HEAD into GET, so both share the entry.
        var cacheable = enabled && HttpMethods.IsGet(req.Method)
            && !req.Headers.ContainsKey(HeaderNames.Authorization)
            && !(req.Path.Value ?? "").StartsWith("/odata/AuditEntries", StringComparison.OrdinalIgnoreCase);
        if (cacheable && minUses > 1 && !seen.SeenBefore(SeenKey(req)))
        {
            // Asked for the first time: nothing in the cache to find, nothing worth keeping yet.
            context.EnableOutputCaching = false;
            return;
        }
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = true;   // ten clients asking the same aggregate compute it once
        if (!cacheable) return;
        var vary = context.CacheVaryByRules;
        vary.HeaderNames = Headers;
        vary.VaryByValues["path"] = req.Path.Value ?? "";
        vary.VaryByValues["query"] = req.QueryString.Value ?? "";
        vary.VaryByValues["today"] = QueryParameters.Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await MapCache.KeepPerReleaseAsync(context, minutes, ct);
    }

    readonly SeenKeys seen = new();

    /// <summary>The cache key's parts known before the release is read (a new release keeps what was seen).</summary>
    static int SeenKey(HttpRequest req)
    {
        var h = new HashCode();
        h.Add(req.Path.Value, StringComparer.Ordinal);
        h.Add(req.QueryString.Value, StringComparer.Ordinal);
        foreach (var name in Headers) h.Add(req.Headers[name].ToString(), StringComparer.Ordinal);
        h.Add(QueryParameters.Today);
        return h.ToHashCode();
    }

    /// <summary>
    /// The hashes of the keys seen lately, one per slot (256 KB): a key whose slot another key took since is
    /// seen as new once more, which only delays its caching.
    /// </summary>
    sealed class SeenKeys
    {
        readonly int[] slots = new int[1 << 16];

        public bool SeenBefore(int hash)
        {
            hash |= 1; // 0 marks an empty slot
            return Interlocked.Exchange(ref slots[hash & (slots.Length - 1)], hash) == hash;
        }
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken ct)
    {
        var res = context.HttpContext.Response;
        if (res.StatusCode != StatusCodes.Status200OK || res.Headers.SetCookie.Count > 0)
            context.AllowCacheStorage = false;
        return ValueTask.CompletedTask;
    }
}
