using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Observatoire.Hardening;

/// <summary>Limits of a request's address and headers (section <c>Requests</c> of appsettings.json).</summary>
public sealed class RequestLimits
{
    /// <summary>Longest address (path and query, as sent) answered; beyond: 414 with a problem body.</summary>
    public int MaxUrlLength { get; set; } = 8192;
    /// <summary>Largest total size of the request headers; beyond: 431 with a problem body.</summary>
    public int MaxHeadersTotalSize { get; set; } = 32 * 1024;
}

/// <summary>
/// Refuses, before any endpoint reads them, addresses whose bytes no endpoint can use: invalid
/// percent-encoding, bytes that are not UTF-8, control characters (NUL reaches PostgreSQL as an
/// invalid text and used to give a 500). Also answers too long addresses (414) and too large headers
/// (431) itself, with a problem body: Kestrel's own limits are set above these (see
/// <see cref="ConfigureKestrel"/>) because Kestrel answers them with an empty body. Requests Kestrel
/// cannot parse at all (raw control bytes in the request line) still get its empty 400.
/// </summary>
public static class RequestGuards
{
    public static void ConfigureKestrel(WebApplicationBuilder builder, RequestLimits limits)
    {
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false; // no server banner
            k.Limits.MaxRequestLineSize = Math.Max(k.Limits.MaxRequestLineSize, limits.MaxUrlLength * 8);
            k.Limits.MaxRequestHeadersTotalSize = Math.Max(k.Limits.MaxRequestHeadersTotalSize, limits.MaxHeadersTotalSize * 2);
        });
    }

    public static IApplicationBuilder UseRequestGuards(this IApplicationBuilder app, RequestLimits limits) => app.Use(async (ctx, next) =>
    {
        // The target as sent (Kestrel keeps it raw); in-process hosts may leave it empty or partial, so
        // the path and the query string (which ASP.NET keeps undecoded) are checked too.
        var query = ctx.Request.QueryString.Value ?? "";
        var path = ctx.Request.PathBase.ToUriComponent() + ctx.Request.Path.ToUriComponent();
        var raw = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target ? target : path + query;
        if (Math.Max(raw.Length, path.Length + query.Length) > limits.MaxUrlLength)
        {
            await ServiceProblems.WriteAsync(ctx, StatusCodes.Status414UriTooLong, "Adresse trop longue",
                $"L'adresse dépasse {limits.MaxUrlLength} caractères : raccourcissez la requête (moins de filtres, ou $filter avec « in »).");
            return;
        }
        long headers = 0;
        foreach (var h in ctx.Request.Headers) headers += h.Key.Length + h.Value.ToString().Length + 4;
        if (headers > limits.MaxHeadersTotalSize)
        {
            await ServiceProblems.WriteAsync(ctx, StatusCodes.Status431RequestHeaderFieldsTooLarge, "En-têtes trop volumineux",
                $"Les en-têtes de la requête dépassent {limits.MaxHeadersTotalSize / 1024} Ko (cookies trop nombreux ?).");
            return;
        }
        if ((BadBytes(raw) ?? BadBytes(query)) is { } problem)
        {
            await ServiceProblems.WriteAsync(ctx, StatusCodes.Status400BadRequest, "Adresse invalide", problem);
            return;
        }
        await next(ctx);
    });

    /// <summary>What is wrong with the bytes of an address as sent (path and query), or null.</summary>
    public static string? BadBytes(string raw)
    {
        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '%')
            {
                if (i + 2 >= raw.Length || !Uri.IsHexDigit(raw[i + 1]) || !Uri.IsHexDigit(raw[i + 2]))
                    return $"Encodage « %XX » invalide à la position {i + 1} : un « % » doit être suivi de deux chiffres hexadécimaux (écrivez %25 pour le signe %).";
                bytes.Add(Convert.ToByte(raw.Substring(i + 1, 2), 16));
                i += 2;
            }
            else if (c > 0x7F) bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            else bytes.Add((byte)c);
        }
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray()); }
        catch (DecoderFallbackException)
        {
            return "L'adresse contient des octets qui ne sont pas de l'UTF-8 valide (après décodage des « %XX »).";
        }
        foreach (var ch in text)
            if (char.IsControl(ch))
                return $"L'adresse contient un caractère de contrôle (U+{(int)ch:X4}) : les paramètres attendent du texte.";
        return null;
    }
}
