namespace Observatoire.Hardening;

/// <summary>
/// Response headers of every answer, and CORS for the public data.
/// <list type="bullet">
/// <item>Content-Security-Policy: scripts, styles, images, fonts and requests from this site only, no
/// inline script or style (neither &lt;style&gt; elements nor <c>style=""</c> attributes: the page and
/// Leaflet set styles through the CSSOM, <c>element.style</c>, which a policy does not govern), no
/// plugin, no framing.</item>
/// <item>X-Content-Type-Options nosniff (a CSV or JSON body is never run as a script), Referrer-Policy,
/// X-Frame-Options DENY for browsers without frame-ancestors. The Server header is off (Kestrel).</item>
/// <item>CORS: any origin may GET (or HEAD) the public data — tiles, GeoJSON, /api, OData — so other
/// sites can reuse it; no other method, no credentials, nothing else is opened.</item>
/// </list>
/// </summary>
public static class SecurityHeaders
{
    public const string PublicReadPolicy = "public-read";

    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; " +
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IServiceCollection AddSecurityHeaders(this IServiceCollection services) =>
        services.AddCors(o => o.AddPolicy(PublicReadPolicy, p => p
            .AllowAnyOrigin()
            .WithMethods("GET", "HEAD")
            .WithHeaders("Accept", "Accept-Language", "If-None-Match", "If-Modified-Since", "OData-Version", "OData-MaxVersion", "Prefer")
            .WithExposedHeaders("ETag", "Retry-After", "OData-Version", "Content-Disposition")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));

    /// <summary>Public data: what other sites may read from the browser.</summary>
    public static bool IsPublicData(PathString path) =>
        path.StartsWithSegments("/tiles") || path.StartsWithSegments("/api") || path.StartsWithSegments("/odata");

    /// <summary>Outermost, so that cached answers, static files and errors all carry the headers.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        app.Use((ctx, next) =>
        {
            // At the last moment: some writers (problem bodies, OData errors) clear the headers first.
            ctx.Response.OnStarting(() =>
            {
                var h = ctx.Response.Headers;
                h.ContentSecurityPolicy = ContentSecurityPolicy;
                h.XContentTypeOptions = "nosniff";
                h.XFrameOptions = "DENY";
                h["Referrer-Policy"] = "strict-origin-when-cross-origin";
                return Task.CompletedTask;
            });
            return next(ctx);
        });
        app.UseWhen(ctx => IsPublicData(ctx.Request.Path), b => b.UseCors(PublicReadPolicy));
        return app;
    }
}
