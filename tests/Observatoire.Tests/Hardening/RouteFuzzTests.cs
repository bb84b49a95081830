using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Hardening;

/// <summary>
/// Every GET route of the application (read from its route table, so a new endpoint is fuzzed without
/// touching this test), every route parameter and every query parameter it reads, each given a few
/// hundred bad values: no answer is a 5xx, every error is a problem body (the OData error format under
/// /odata), and no row of the database changes. Where one handler serves many routes (OData's key
/// paths: one action for Set(key)/Property, /$value, /Navigation… of every property), the first route
/// of the handler gets every value for a parameter and each other route a share of them, a different
/// share per route: the handler's code sees every value, each route sees bad values, and the test
/// sends 39,000 requests instead of 153,000 (most of those were the same key lookup).
/// </summary>
[LongChain(49)]
public sealed class RouteFuzzTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    /// <summary>A valid value per route parameter name, so the other parameters are reached.</summary>
    static readonly Dictionary<string, string> Valid = new(StringComparer.OrdinalIgnoreCase)
    {
        ["level"] = "departements", ["layer"] = "communes", ["z"] = "8", ["x"] = "127", ["y"] = "88",
        ["id"] = "COM-35238", ["table"] = "regions", ["chart"] = "regions", ["ext"] = "svg", ["key"] = "'COM-35238'",
    };

    /// <summary>Query parameters each family of routes reads (what the README documents).</summary>
    static string[] QueryParameters(string path) => path switch
    {
        _ when path.StartsWith("/api/geo/") => ["zoom", "bbox", "type", "band", "obliged", "open", "atd", "region", "departement", "date"],
        _ when path.StartsWith("/tiles/") => ["type", "band", "obliged", "open", "atd", "region", "departement", "date"],
        _ when path.StartsWith("/api/search") => ["q"],
        _ when path.StartsWith("/api/indicators") => ["date", "type", "band", "region", "departement", "atd", "obliged", "by"],
        _ when path.StartsWith("/api/reports/") && path.EndsWith(".csv") => ["date", "region", "atd", "format"],
        _ when path.StartsWith("/api/reports/") => ["date", "region", "atd"],
        // Query options on the entity sets themselves (the key and navigation routes get their route parameters fuzzed).
        "/odata/Collectivites" or "/odata/Observations" => ["$filter", "$orderby", "$top", "$skip", "$select", "$apply", "$search"],
        "/odata/Platforms" or "/odata/Atds" or "/odata/AssociatedActors" or "/odata/Milestones" => ["$filter", "$top"],
        _ when path.StartsWith("/odata") => [],
        _ when path.StartsWith("/api/") => ["date"],
        _ => [],
    };

    /// <summary>Bad values, already percent-encoded where needed: a few hundred per parameter.</summary>
    public static List<string> BadValues()
    {
        var v = new List<string>();
        for (var c = 0; c < 0x20; c++) v.Add($"%{c:X2}");          // every C0 control, NUL first
        v.AddRange(["%7F", "%C2%80", "%C2%9F", "a%00b", "%00%00", "2022-10-19%00", "35238%0A", "%0D%0AX-Injected:%201"]);
        v.AddRange(["%", "%%", "%1", "%G0", "%zz", "%%41", "abc%", "%C3", "%C3%28", "%FF", "%FE%FF", "%80", "%ED%A0%80",
            "%F4%90%80%80", "%C0%AF", "%E0%80%AF", "%F0%9F%98", "%2", "%u0041"]);
        v.AddRange(["", "%20", "%20%20%20", "-", "--", "'", "''", "\"", "%22%22", "%27%20or%201%3D1--", "1;drop%20table%20collectivite",
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "javascript:alert(1)", "..%2F..%2Fetc%2Fpasswd", "%2E%2E%2F", "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D",
            "%7B%7B7*7%7D%7D", "null", "undefined", "NaN", "Infinity", "-Infinity", "true", "false", "[]", "%7B%7D", "()", "((((((((((",
            "))))", "%5C", "%5C%5C", "%2F", "%3F", "%23", "%26", "%3D", "%2B", "+", "*", "%25", "%25%25"]);
        v.AddRange(["0", "-0", "-1", "-2147483648", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
            "99999999999999999999999999", "1e309", "-1e309", "1.5", "1,5", "0x10", "0b1", "1_000", "٣", "%D9%A3", "１", "%EF%BC%91", "01", "00000000001"]);
        v.AddRange(["0000-00-00", "9999-99-99", "2022-02-30", "2022-13-01", "20221019", "19/10/2022", "2022-10-19T25:00", "1900-01-01",
            "0001-01-01", "9999-12-31", "2999-12-31", "-2022-10-19", "2022-10-19%20", "2022-10-19,2022-10-20", "today", "now()"]);
        v.AddRange(["1,2,3", "a,b,c,d", "-200,-100,200,100", "1,1,1,1", "NaN,NaN,NaN,NaN", "1e308,1e308,-1e308,-1e308", ",,,", "1,2,3,4,5",
            "-180,-90,180,90", "-1.8,47.9,-1.5,48.2,", "0,0,0.0000001,0.0000001"]);
        v.AddRange(["COM", "COM,COM,COM", "XYZ", ",", ",,", "com", "<500", "%3C500", ">=100000", "%3E%3D100000", "oui,non", "truee", "2A", "2a", "ZZZZ", "999"]);
        v.AddRange(["Population%20gt", "Name%20eq%20%27x", "Name%20eq%20%27x%27%27", "substring(Name,1000000)%20eq%20%27%27",
            "Population%20div%200%20eq%201", "cast(Name,Edm.Int32)%20eq%201", "any()", "Observations/any(o:o/Foo%20eq%201)",
            "length(Name)%20gt%20-1%20and%20" + string.Join("%20and%20", Enumerable.Repeat("true", 150)), "Nope", "Name%20desc,Nope",
            "groupby((Nope))", "aggregate(IsOpen%20with%20average%20as%20X)", "aggregate(Population%20with%20sum%20as%20X)", "%24it", "Name%20eq%20null",
            "Population%20add%202147483647%20gt%200", "Population%20mul%202147483647%20gt%200", "Collectivites", "*/*", "Name,Name,Name",
            "geo.distance(Name,Name)%20lt%201", "now()%20gt%202022-01-01T00:00:00Z", "contains(Name,%27%25%27)"]);
        v.Add(new string('a', 5000));
        v.Add(string.Concat(Enumerable.Repeat("%C3%A9", 2000)));
        v.Add(new string('9', 400));
        // Each of the shorter values again with a valid-looking prefix, so parsers that read a prefix see the rest.
        v.AddRange(v.Where(x => x.Length < 40).Take(40).Select(x => "53" + x).ToList());
        return v.Distinct().ToList();
    }

    static string Render(RoutePattern pattern, string? fuzzed, string value)
    {
        var sb = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            sb.Append('/');
            foreach (var part in segment.Parts)
                sb.Append(part switch
                {
                    RoutePatternLiteralPart l => Uri.EscapeDataString(l.Content).Replace("%24", "$").Replace("%28", "(").Replace("%29", ")"),
                    RoutePatternSeparatorPart s => s.Content,
                    RoutePatternParameterPart p when p.Name == fuzzed => value,
                    RoutePatternParameterPart p => Valid.GetValueOrDefault(p.Name, "1"),
                    _ => "",
                });
        }
        return sb.Length == 0 ? "/" : sb.ToString();
    }

    /// <summary>
    /// A GET whose path and query are exactly these bytes, as a client on the network could send them
    /// (HttpClient re-escapes "%zz" and refuses some of them; the test server's context is set directly).
    /// </summary>
    public static Task<HttpContext> RawGetAsync(Microsoft.AspNetCore.TestHost.TestServer server, string url) => server.SendAsync(c =>
    {
        var q = url.IndexOf('?');
        var path = q < 0 ? url : url[..q];
        c.Request.Method = "GET";
        // A decoded NUL is refused by PathString (as by Kestrel): keep such a path undecoded, the target says the rest.
        try { c.Request.Path = PathString.FromUriComponent(path); }
        catch (InvalidOperationException) { c.Request.Path = new PathString(path); }
        c.Request.QueryString = q < 0 ? QueryString.Empty : new QueryString(url[q..]);
        c.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = url;
    });

    /// <summary>A route that shares its handler with an earlier one gets one value in this many.</summary>
    const int SharePeriod = 10;

    [Fact]
    public async Task Bad_values_for_every_route_and_parameter_never_give_a_5xx_or_a_body_that_is_not_a_problem()
    {
        await using var app = db.App.WithWebHostBuilder(_ => { });
        var server = app.Server;
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") ?? true)
            .GroupBy(e => e.RoutePattern.RawText).Select(g => g.First())
            .ToList();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText!.Contains("geo"));
        Assert.Contains(endpoints, e => e.RoutePattern.RawText!.Contains("odata", StringComparison.OrdinalIgnoreCase));

        var values = BadValues();
        Assert.True(values.Count >= 200, $"{values.Count} valeurs");
        var urls = new List<string>();
        // How many routes of the same handler already took bad values for this parameter.
        var seen = new Dictionary<(object Handler, string Parameter), int>();
        IEnumerable<string> Share(RouteEndpoint e, string parameter)
        {
            object handler = e.Metadata.GetMetadata<ControllerActionDescriptor>()?.MethodInfo
                ?? e.Metadata.GetMetadata<System.Reflection.MethodInfo>() ?? (object)e.RoutePattern.RawText!;
            var n = seen.GetValueOrDefault((handler, parameter));
            seen[(handler, parameter)] = n + 1;
            return n == 0 ? values : values.Where((_, i) => i % SharePeriod == n % SharePeriod);
        }
        foreach (var e in endpoints)
        {
            var p = e.RoutePattern;
            foreach (var param in p.Parameters.Where(x => !x.IsCatchAll))
                urls.AddRange(Share(e, param.Name).Select(v => Render(p, param.Name, v)));
            var path = Render(p, null, "");
            foreach (var q in QueryParameters(path))
                urls.AddRange(Share(e, "?" + q).Select(v => $"{path}?{q}={v}"));
        }

        var before = await TableChecksums.RowVersionsAsync(db.DataSource);
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(urls, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (url, ct) =>
        {
            HttpContext r;
            try { r = await RawGetAsync(server, url); }
            catch (Exception e) { failures.Add($"{url} : exception {e.GetType().Name} {e.Message}"); return; }
            var code = r.Response.StatusCode;
            statuses.AddOrUpdate(code, 1, (_, n) => n + 1);
            var body = await new StreamReader(r.Response.Body).ReadToEndAsync(ct);
            if (code >= 500) { failures.Add($"{url} : {code} {body[..Math.Min(300, body.Length)]}"); return; }
            if (code < 400) return;
            try
            {
                using var doc = JsonDocument.Parse(body);
                var ok = url.StartsWith("/odata", StringComparison.OrdinalIgnoreCase)
                    ? doc.RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("message", out _)
                    : r.Response.ContentType?.StartsWith("application/problem+json") == true && doc.RootElement.TryGetProperty("title", out _);
                if (!ok || body.Contains("   at ")) failures.Add($"{url} : {code} pas un corps d'erreur attendu : {body[..Math.Min(200, body.Length)]}");
            }
            catch (JsonException) { failures.Add($"{url} : {code} corps non JSON : {body[..Math.Min(200, body.Length)]}"); }
        });

        Assert.True(urls.Count > 5000, $"{urls.Count} requêtes");
        Assert.True(failures.IsEmpty, $"{failures.Count} échecs sur {urls.Count} ; statuts {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))}\n"
            + string.Join("\n", failures.Take(30)));
        Assert.Equal(before, await TableChecksums.RowVersionsAsync(db.DataSource));
    }
}
