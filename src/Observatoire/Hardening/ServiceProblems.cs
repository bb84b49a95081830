using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Observatoire.OData;

namespace Observatoire.Hardening;

/// <summary>Why the database cannot serve a request right now.</summary>
public enum DatabaseTrouble
{
    /// <summary>Not accepting connections: stopped, restarting, unreachable.</summary>
    Unreachable,
    /// <summary>Answering, but not in time: no pooled connection free, too many connections, statement timeout.</summary>
    Saturated,
}

/// <summary>
/// The answers of a service that cannot serve now (database down or saturated, client over its rate,
/// expensive work queue full) and of bad bytes: a French problem body (the OData error format under
/// /odata) with <c>Retry-After</c> where waiting helps. Never a 500 for these.
/// </summary>
public static class ServiceProblems
{
    /// <summary>Seconds a client is asked to wait after a database outage or saturation.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The database trouble behind an exception (walking inner exceptions), or null when it is something else.</summary>
    public static DatabaseTrouble? Classify(Exception? e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            switch (x)
            {
                // 53xxx insufficient resources (53300 too many connections); 57014 statement timeout.
                case PostgresException p when p.SqlState.StartsWith("53", StringComparison.Ordinal) || p.SqlState == "57014":
                    return DatabaseTrouble.Saturated;
                // 57P01-57P03: shutting down, crash recovery, not yet accepting connections; 08xxx connection failures.
                case PostgresException p when p.SqlState.StartsWith("57P", StringComparison.Ordinal) || p.SqlState.StartsWith("08", StringComparison.Ordinal):
                    return DatabaseTrouble.Unreachable;
                // Refused at connection by the configuration: 3D000 no such database (dropped, or a wrong name in
                // the connection string), 28xxx authentication. The service cannot serve until an operator acts:
                // /health says so, the log has PostgreSQL's message, and a client gets a 503, not a 500.
                case PostgresException p when p.SqlState == "3D000" || p.SqlState.StartsWith("28", StringComparison.Ordinal):
                    return DatabaseTrouble.Unreachable;
                case PostgresException:
                    return null;
                // Npgsql: "The connection pool has been exhausted" (a TimeoutException inside) or a command timeout.
                case NpgsqlException n when n.InnerException is TimeoutException:
                    return DatabaseTrouble.Saturated;
                case NpgsqlException n when n.InnerException is SocketException or IOException or EndOfStreamException || n.IsTransient:
                    return DatabaseTrouble.Unreachable;
                case TimeoutException:
                    return DatabaseTrouble.Saturated;
            }
        return null;
    }

    public static (string Title, string Detail) Text(DatabaseTrouble t) => t == DatabaseTrouble.Unreachable
        ? ("Service indisponible", $"La base de données ne répond pas (redémarrage ou panne) ; réessayez dans {RetryAfterSeconds} secondes.")
        : ("Service saturé", $"Le service reçoit plus de demandes qu'il ne peut en traiter ; réessayez dans {RetryAfterSeconds} secondes.");

    /// <summary>Writes a problem answer, in the OData error format under /odata, with Retry-After when given.</summary>
    public static async Task WriteAsync(HttpContext ctx, int status, string title, string detail, int? retryAfter = null, string? odataCode = null)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        // Headers before the body: writing it starts the response.
        if (retryAfter is { } s) ctx.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        ctx.Response.Headers.CacheControl = "no-store";
        if (ctx.Request.Path.StartsWithSegments("/odata"))
        {
            ctx.Response.ContentType = "application/json; odata.metadata=minimal";
            ctx.Response.Headers["OData-Version"] = "4.0";
            await ctx.Response.Body.WriteAsync(ODataErrors.Body(
                new ODataErrors.Error(status, odataCode ?? CodeOf(status), $"{title} : {detail}", EnglishOf(status), null, null)));
            return;
        }
        await ctx.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = ctx,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    static string CodeOf(int status) => status switch
    {
        400 => "BadRequest",
        414 => "UriTooLong",
        429 => "TooManyRequests",
        431 => "HeadersTooLarge",
        503 => "ServiceUnavailable",
        _ => "Error",
    };

    static string EnglishOf(int status) => status switch
    {
        400 => "Bad request: a value of the address is invalid (control character, invalid percent-encoding or wrong format).",
        414 => "URI too long: shorten the query.",
        429 => "Too many requests from this client: wait for the Retry-After delay.",
        431 => "Request headers too large.",
        503 => "Service unavailable or saturated: retry after the Retry-After delay.",
        _ => "Error.",
    };
}

/// <summary>
/// Turns a database outage or saturation raised anywhere outside /odata (which has its own handler
/// calling <see cref="ServiceProblems.Classify"/>) into 503 + Retry-After, instead of the generic 500.
/// </summary>
public sealed class DatabaseUnavailableHandler(ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext ctx, Exception e, CancellationToken ct)
    {
        if (ServiceProblems.Classify(e) is not { } trouble) return false;
        logger.LogWarning("Base de données {Trouble} pour {Path} : {Message}", trouble, ctx.Request.Path, e.Message);
        var (title, detail) = ServiceProblems.Text(trouble);
        await ServiceProblems.WriteAsync(ctx, StatusCodes.Status503ServiceUnavailable, title, detail, ServiceProblems.RetryAfterSeconds);
        return true;
    }
}

/// <summary>
/// A value of the address that route matching itself cannot convert (an OData key or function
/// parameter such as <c>StatusOn(Date='')</c>): the library throws before any endpoint is chosen,
/// which used to give an empty 500. Answered 400 with a problem body (OData format under /odata).
/// </summary>
public sealed class RouteValueExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext ctx, Exception e, CancellationToken ct)
    {
        if (ctx.GetEndpoint() is not null || e is not (FormatException or OverflowException or Microsoft.OData.ODataException)) return false;
        var cause = e.Message.Split('\n')[0];
        await ServiceProblems.WriteAsync(ctx, StatusCodes.Status400BadRequest, "Adresse invalide",
            $"Une valeur de l'adresse n'a pas le format attendu ({cause}) : une date s'écrit AAAA-MM-JJ, une clé entre apostrophes.");
        return true;
    }
}
