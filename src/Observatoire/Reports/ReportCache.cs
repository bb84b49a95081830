using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.Reports;

/// <summary>A report as sent: its bytes, their type, and the file name offered for download (none for a chart).</summary>
public sealed record RenderedReport(byte[] Body, string ContentType, string? FileName = null)
{
    public IResult ToResult() => Results.File(Body, ContentType, FileName);
}

/// <summary>
/// Rendered reports by data release. A report depends only on its request and on the data, and the data
/// change only with a release (an import or a contribution, <see cref="DataReleaseClock"/>). A national
/// PDF takes about a second of database and rendering; the same report is asked for again in each format,
/// table and chart, and by every reader. Keyed by the request as read (<c>?date=</c> and <c>?date=%20</c>
/// are one entry), never holding an error, bounded in bytes (<c>Reports:CacheMegabytes</c>, 0 = off).
/// A report asked for again while it is being rendered waits for that rendering instead of starting its
/// own: after a release every reader asks for the same national PDF at once.
/// </summary>
public sealed class ReportCache
{
    public const string MeterName = "Observatoire.Reports";

    readonly DataReleaseClock clock;
    readonly long limit;
    readonly MemoryCache? cache;
    readonly TimeSpan lifetime;
    readonly ConcurrentDictionary<object, Task<RenderedReport>> rendering = new();
    readonly Counter<long> renders;

    public ReportCache(DataReleaseClock clock, IConfiguration config, IMeterFactory meters)
    {
        this.clock = clock;
        renders = meters.Create(MeterName).CreateCounter<long>("observatoire.reports.rendered",
            description: "Rapports calculés (les autres viennent de la mémoire ou d'un calcul en cours).");
        limit = Math.Max(0, config.GetValue("Reports:CacheMegabytes", 64)) * 1024L * 1024;
        cache = limit > 0 ? new(new MemoryCacheOptions { SizeLimit = limit }) : null;
        lifetime = TimeSpan.FromMinutes(Math.Max(1, config.GetValue("Map:OutputCacheMinutes", 60)));
    }

    /// <param name="variant">What is rendered from the model: "national.pdf", "csv:regions:fr"…</param>
    public async Task<RenderedReport> GetOrRenderAsync(string variant, ReportRequest request, Func<Task<RenderedReport>> render, CancellationToken ct)
    {
        if (cache is null) return await RenderAsync(render);
        // Today is in the key for a base without any observation, where the report is dated today.
        var key = (await clock.CurrentAsync(ct), QueryParameters.Today, variant, request);
        if (cache.TryGetValue(key, out RenderedReport? hit)) return hit!;

        var mine = new TaskCompletionSource<RenderedReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = rendering.GetOrAdd(key, mine.Task);
        if (current != mine.Task)
        {
            try { return await current.WaitAsync(ct); }
            // The reader who started it left (its request was cancelled): this one renders for itself.
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return await RenderAsync(render); }
        }
        try
        {
            // Rendered and kept by another reader between the lookup above and this one's turn.
            if (cache.TryGetValue(key, out hit))
            {
                mine.SetResult(hit!);
                return hit!;
            }
            var rendered = await RenderAsync(render);
            if (rendered.Body.Length <= limit / 4) // a body larger than a quarter of the cache would evict the rest
                cache.Set(key, rendered, new MemoryCacheEntryOptions { Size = rendered.Body.Length, AbsoluteExpirationRelativeToNow = lifetime });
            mine.SetResult(rendered);
            return rendered;
        }
        catch (OperationCanceledException)
        {
            mine.SetCanceled(CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            mine.SetException(e); // the waiters get the same error as this reader
            _ = mine.Task.Exception; // observed, even when nobody waited
            throw;
        }
        finally
        {
            rendering.TryRemove(KeyValuePair.Create<object, Task<RenderedReport>>(key, mine.Task));
        }
    }

    async Task<RenderedReport> RenderAsync(Func<Task<RenderedReport>> render)
    {
        renders.Add(1);
        return await render();
    }
}
