using Microsoft.AspNetCore.Diagnostics;
using Microsoft.IO;
using Microsoft.OData;
using Microsoft.OData.UriParser;

namespace Observatoire.OData;

/// <summary>
/// The outermost layer of every /odata request, in front of routing (an <see cref="IStartupFilter"/>:
/// the OData route matcher parses the URL, and a bad literal there, such as StatusOn(Date='hier'),
/// throws before any middleware of Program.cs runs). It guarantees four things:
/// <list type="bullet">
/// <item>one time budget for the whole request (OData:RequestBudgetSeconds): HttpContext.RequestAborted
/// is replaced by a token cancelled at the budget, which EF passes to Npgsql (the command is cancelled
/// in PostgreSQL); the client gets a 503 OData error with Retry-After;</item>
/// <item>the body is buffered and sent only once complete: an error while the library serializes
/// becomes an OData error, never an HTTP 200 with a truncated JSON (a page is at most
/// OData:PageSize rows and expanded collections are bounded, so the buffer is too);</item>
/// <item>HEAD answers wherever GET does, with the same headers and no body;</item>
/// <item>a URL the OData grammar accepts but no controller serves ($batch, $crossjoin, $ref…)
/// answers 501, an unknown one 404, a bad literal 400; 405 carries Allow.</item>
/// </list>
/// </summary>
public sealed class ODataGuard(RequestDelegate next, ODataLimits limits, ILogger<ODataGuard> log)
{
    public const string Allow = "GET, HEAD";

    // The answers are buffered in pooled blocks (at most 16 MB of free blocks kept): a page of 100 rows
    // (28 KB) grew a MemoryStream through eight arrays, 64 KB allocated per request (docs/benchmarks.md).
    internal static readonly RecyclableMemoryStreamManager Buffers = new(new RecyclableMemoryStreamManager.Options
    {
        MaximumSmallPoolFreeBytes = 16 << 20,
        MaximumLargePoolFreeBytes = 16 << 20,
    });

    public async Task InvokeAsync(HttpContext ctx)
    {
        var head = HttpMethods.IsHead(ctx.Request.Method);
        if (head) ctx.Request.Method = HttpMethods.Get;
        ODataFormat.Normalize(ctx.Request);

        var client = ctx.RequestAborted;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(client);
        budget.CancelAfter(limits.RequestBudget);
        ctx.RequestAborted = budget.Token;

        var original = ctx.Response.Body;
        // An id of our own: without one the library draws a Guid per stream, a system call for a name that
        // only its event tracing uses.
        await using var buffer = Buffers.GetStream(Guid.Empty);
        ctx.Response.Body = buffer;
        ODataErrors.Error? error = null;
        try
        {
            if (await AdminOnlyAsync(ctx) is { } refused) throw new ODataClientException(refused);
            await next(ctx);
            // A response that never started writing may still have bytes waiting in its PipeWriter.
            await ctx.Response.BodyWriter.FlushAsync(client);
        }
        catch (Exception e) when (!client.IsCancellationRequested)
        {
            error = budget.IsCancellationRequested ? ODataErrors.Timeout(limits) : ODataErrors.FromException(e);
            if (error is null)
            {
                log.LogError(e, "Erreur OData sur {Url}", ctx.Request.Path + ctx.Request.QueryString);
                error = ODataErrors.ForStatus(500);
            }
        }
        finally
        {
            ctx.Response.Body = original;
        }
        if (client.IsCancellationRequested) return; // the client left: nothing to answer

        // An exception the app's exception handler caught before this guard saw it (it answers problem+json).
        if (error is null && ctx.Response.StatusCode >= 500 && ctx.Features.Get<IExceptionHandlerFeature>()?.Error is { } handled)
            error = budget.IsCancellationRequested ? ODataErrors.Timeout(limits) : ODataErrors.FromException(handled) ?? ODataErrors.ForStatus(500);
        if (error is null && budget.IsCancellationRequested && ctx.Response.StatusCode >= 400)
            error = ODataErrors.Timeout(limits); // cancelled inside a filter that turned it into an error
        if (error is null && ctx.Response.StatusCode == 404 && ctx.GetEndpoint() is null)
            error = Unrouted(ctx);
        if (error is null && ctx.Response.StatusCode == 405)
            error = ODataErrors.ForStatus(405);

        if (error is not null)
        {
            buffer.SetLength(0);
            ctx.Response.Headers.Clear();
            ctx.Response.StatusCode = error.Status;
            ctx.Response.ContentType = ODataErrors.ContentType;
            ctx.Response.Headers["OData-Version"] = "4.0";
            if (error.Status == 405) ctx.Response.Headers.Allow = Allow;
            if (error.Status == 401) ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"observatoire\"";
            if (error.Status == 503) ctx.Response.Headers.RetryAfter = limits.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            buffer.Write(ODataErrors.Body(error));
        }
        ctx.Response.ContentLength = buffer.Length;
        if (head || buffer.Length == 0) return;
        buffer.Position = 0;
        await buffer.CopyToAsync(original, client);
    }

    /// <summary>The audit log (AuditEntries) is read with an administrator's key only (issue #16).</summary>
    static async Task<ODataErrors.Error?> AdminOnlyAsync(HttpContext ctx)
    {
        if (!(ctx.Request.Path.Value ?? "").StartsWith("/odata/AuditEntries", StringComparison.OrdinalIgnoreCase)) return null;
        var (who, _, _) = await Contributions.ContributorAuth.AuthenticateAsync(ctx);
        if (who is null)
            return new(401, "Unauthorized", "Le journal d'audit demande une clé d'administrateur (en-tête Authorization: Bearer <clé>).",
                "The audit log needs an administrator's API key (Authorization: Bearer <key>).", null, null);
        return who.IsAdmin ? null
            : new(403, "Forbidden", "Le journal d'audit est réservé aux administrateurs.", "The audit log is for administrators only.", null, null);
    }

    /// <summary>
    /// No endpoint: an OData feature this read-only service does not implement ($batch, $ref, $crossjoin,
    /// $all, $entity: 501), a bad literal in the path (400), or else an unknown resource (404) — a malformed
    /// key such as <c>Atds()</c> parses but names nothing, and is a client error, never a 5xx.
    /// </summary>
    static ODataErrors.Error Unrouted(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value!["/odata".Length..].TrimStart('/');
        if (path.Length == 0) return ODataErrors.ForStatus(404);
        if ((path.StartsWith('$') && !path.StartsWith("$metadata", StringComparison.Ordinal)) || path.Contains("/$ref", StringComparison.Ordinal))
            return ODataErrors.NotImplemented(path);
        try
        {
            var parsed = new ODataUriParser(ODataModel.Instance, new Uri(path, UriKind.Relative)) { Resolver = new ODataUriResolver { EnableCaseInsensitive = false } }.ParsePath();
            return parsed.Any(s => s is ReferenceSegment or NavigationPropertyLinkSegment or BatchSegment or BatchReferenceSegment)
                ? ODataErrors.NotImplemented(path)
                : ODataErrors.ForStatus(404);
        }
        catch (ODataUnrecognizedPathException)
        {
            return ODataErrors.ForStatus(404);
        }
        catch (Exception e) when (ODataErrors.FromException(e) is { } err)
        {
            return err;
        }
        catch (Exception)
        {
            return ODataErrors.ForStatus(404);
        }
    }
}

/// <summary>The limits of the OData API that appsettings.json can change (section OData).</summary>
public sealed class ODataLimits
{
    public TimeSpan RequestBudget { get; init; } = TimeSpan.FromSeconds(10);
    public int RetryAfterSeconds { get; init; } = 30;

    public static ODataLimits From(IConfiguration config) => new()
    {
        RequestBudget = TimeSpan.FromSeconds(config.GetValue("OData:RequestBudgetSeconds", 10.0)),
        RetryAfterSeconds = config.GetValue("OData:RetryAfterSeconds", 30),
    };
}

/// <summary>Runs <see cref="ODataGuard"/> in front of routing for /odata.</summary>
sealed class ODataGuardStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/odata"), b => b.UseMiddleware<ODataGuard>());
        next(app);
    };
}

/// <summary>Response formats the library cannot write, turned into ones it can before negotiation.</summary>
static class ODataFormat
{
    /// <summary>
    /// $apply answers rows without key or id (groups, aggregates): with odata.metadata=full the
    /// library computes each row's navigation links from an id it does not have and fails. Such a
    /// request gets minimal metadata, which its Content-Type says (clients read it from there).
    /// </summary>
    public static void Normalize(HttpRequest request)
    {
        if (!request.Query.ContainsKey("$apply")) return;
        var accept = request.Headers.Accept.ToString();
        if (accept.Contains("odata.metadata=full", StringComparison.OrdinalIgnoreCase))
            request.Headers.Accept = accept.Replace("odata.metadata=full", "odata.metadata=minimal", StringComparison.OrdinalIgnoreCase);
        if (request.Query["$format"].ToString() is { } f && f.Contains("odata.metadata=full", StringComparison.OrdinalIgnoreCase))
        {
            var q = new Dictionary<string, Microsoft.Extensions.Primitives.StringValues>(request.Query, StringComparer.Ordinal)
            {
                ["$format"] = f.Replace("odata.metadata=full", "odata.metadata=minimal", StringComparison.OrdinalIgnoreCase),
            };
            request.QueryString = QueryString.Create(q);
        }
    }
}
