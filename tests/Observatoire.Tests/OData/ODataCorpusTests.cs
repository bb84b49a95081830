using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.OData.Edm;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// Malformed and unusual requests generated from the model read back from $metadata (every entity
/// set, property type, navigation, function parameter), as a client would meet them: no answer is a
/// 5xx (other than 501, "not implemented"), every body is read to its end, and no error message shows
/// what only the service knows (SQLSTATE codes, CLR/LINQ types, the library's setting names).
/// </summary>
[LongChain(70)]
public sealed partial class ODataCorpusTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    const string Full = "application/json;odata.metadata=full";

    sealed record Probe(string Method, string Url, string? Accept = null);

    static readonly Regex Internals = InternalsRegex();

    [GeneratedRegex(@"\b(22|23|42|53|54|57|XX)[0-9A-Z]{3}\b|SQLSTATE|System\.|Microsoft\.|Npgsql|Expression|MaxNodeCount|MaxTop|MaxSkip|MaxExpansionDepth|MaxAnyAllExpressionDepth|MaxOrderByNodeCount|PageSize|EnableQuery|ODataValidationSettings|IQueryable|Linq|[Ss]tack ?[Tt]race|innererror|   at ")]
    private static partial Regex InternalsRegex();

    /// <summary>A literal of the wrong kind for a property of this type, and one that is malformed.</summary>
    static IEnumerable<string> BadLiterals(IEdmTypeReference t) => t.PrimitiveKind() switch
    {
        EdmPrimitiveTypeKind.String => ["1", "'unterminated", "2022-10-19"],
        EdmPrimitiveTypeKind.Int64 or EdmPrimitiveTypeKind.Int32 => ["'abc'", "99999999999999999999999", "1.5.2"],
        EdmPrimitiveTypeKind.Double => ["'x'", "1e999999"],
        EdmPrimitiveTypeKind.Boolean => ["'yes'", "2"],
        EdmPrimitiveTypeKind.Date => ["'hier'", "2022-13-45", "2022-10-19T00:00:00Z"],
        _ => ["'x'"],
    };

    static string Q(string v) => Uri.EscapeDataString(v);

    async Task<List<Probe>> CorpusAsync(ODataTestClient client)
    {
        var model = await client.ModelAsync();
        var probes = new List<Probe>();
        void Get(string url, string? accept = null) => probes.Add(new("GET", url, accept));

        foreach (var set in model.EntityContainer.EntitySets())
        {
            var type = set.EntityType;
            var s = "/odata/" + set.Name;
            var key = type.Key().Single();
            var (status, json, _) = await client.GetJsonAsync($"{s}?$top=1&$select={key.Name}");
            if (set.Name == "AuditEntries")
            {
                // Administrators only (an API key): anonymous requests get 401 in the OData error format.
                Assert.Equal(401, status);
                Assert.True(json.TryGetProperty("error", out _));
                continue;
            }
            Assert.Equal(200, status);
            var keyLiteral = json.GetProperty("value").EnumerateArray().Select(r => r.GetProperty(key.Name)).Select(v =>
                v.ValueKind == JsonValueKind.String && key.Type.IsString() ? $"'{v.GetString()}'" : v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())
                .FirstOrDefault();

            Get($"{s}('nope-{Guid.NewGuid():N}')");
            Get($"{s}(1)");
            Get($"{s}(2022-10-19)");
            Get($"{s}?$top=5000&$select={key.Name}");
            Get($"{s}?$skip=abc");
            Get($"{s}?$count=maybe");
            Get($"{s}?$search=(");
            Get($"{s}?$levels=2");
            Get($"{s}?$skiptoken=abc");
            Get($"{s}?$format=xml");
            Get($"{s}?$top=1&$format={Q(Full)}");
            Get($"{s}?$top=1", "application/xml");
            Get($"{s}?$expand=*&$top=3");
            Get($"{s}?$expand=*&$top=3", Full);
            Get($"{s}?$apply=aggregate($count as N)", Full);
            Get($"{s}?$apply=groupby(({key.Name}))&$top=2", Full);
            Get($"{s}/$count");
            Get($"{s}/$count?$filter=Nope eq 1");
            probes.Add(new("POST", s));
            probes.Add(new("DELETE", s));
            probes.Add(new("HEAD", $"{s}?$top=1"));

            foreach (var p in type.StructuralProperties())
            {
                var name = p.Name;
                if (p.Type.IsCollection())
                {
                    Get($"{s}?$filter={Q($"{name}/any(x:x eq 'a')")}&$top=2");
                    Get($"{s}?$filter={Q($"{name} eq 'a'")}");
                    Get($"{s}?$orderby={name}");
                    if (keyLiteral is not null) Get($"{s}({keyLiteral})/{name}/$count");
                    continue;
                }
                foreach (var bad in BadLiterals(p.Type))
                    Get($"{s}?$filter={Q($"{name} eq {bad}")}");
                Get($"{s}?$filter={Q($"{name} gt")}");
                Get($"{s}?$filter={Q($"{name} eq null")}&$top=2");
                Get($"{s}?$orderby={Q($"{name} desc")}&$top=3&$select={name}");
                Get($"{s}?$orderby={Q($"{name} sideways")}");
                Get($"{s}?$select={name}/Nope");
                Get($"{s}?$apply={Q($"groupby(({name}),aggregate($count as N))")}");
                Get($"{s}?$apply={Q($"groupby(({name}),aggregate($count as N))")}&$skip=5", Full);
                Get($"{s}?$apply={Q($"aggregate({name} with sum as S)")}");
                Get($"{s}?$apply={Q($"aggregate({name} with average as A)")}");
                Get($"{s}?$compute={Q($"{name} add 1 as X")}&$select=X&$top=2");
                if (keyLiteral is not null)
                {
                    Get($"{s}({keyLiteral})/{name}");
                    Get($"{s}({keyLiteral})/{name}/$value");
                    Get($"{s}({keyLiteral})/{name}/$count");
                    probes.Add(new("HEAD", $"{s}({keyLiteral})/{name}"));
                }
            }

            foreach (var n in type.NavigationProperties())
            {
                var name = n.Name;
                var target = n.ToEntityType();
                var targetString = target.StructuralProperties().First(p => p.Type.IsString() && !p.Type.IsCollection()).Name;
                Get($"{s}?$expand={name}&$top=3");
                Get($"{s}?$expand={name}&$top=3", Full);
                Get($"{s}?$expand={Q($"{name}($select=Nope)")}");
                Get($"{s}?$expand={Q($"{name}($levels=5)")}");
                Get($"{s}?$expand={Q($"{name}($levels=max)")}&$top=2");
                Get($"{s}?$expand={Q($"{name}($top=abc)")}");
                Get($"{s}?$expand={Q($"{name}($expand={name})")}&$top=2");
                Get($"{s}?$select={name}/{targetString}&$top=2");
                Get($"{s}?$orderby={name}");
                if (n.Type.IsCollection())
                {
                    Get($"{s}?$filter={Q($"{name}/any()")}&$top=2");
                    Get($"{s}?$filter={Q($"{name}/any(x:x/{targetString} eq 1)")}");
                    Get($"{s}?$orderby={Q($"{name}/$count desc")}&$top=2");
                }
                else
                {
                    Get($"{s}?$orderby={Q($"{name}/{targetString}")}&$top=2");
                    Get($"{s}?$filter={Q($"{name}/{targetString} eq null")}&$top=2");
                    foreach (var skip in new[] { 0, 1000 })
                    {
                        Get($"{s}?$apply={Q($"groupby(({name}/{targetString}),aggregate($count as N))")}&$skip={skip}");
                        Get($"{s}?$apply={Q($"groupby(({name}/{targetString}),aggregate($count as N))")}&$skip={skip}", Full);
                    }
                }
                if (keyLiteral is not null)
                {
                    Get($"{s}({keyLiteral})/{name}");
                    Get($"{s}({keyLiteral})/{name}?$select={targetString}", Full);
                    Get($"{s}({keyLiteral})/{name}/$count");
                    Get($"{s}({keyLiteral})/{name}/$ref");
                }
            }
        }

        foreach (var f in model.EntityContainer.OperationImports())
        {
            // Every parameter is a date: a valid call gives them in order (From before To for Changes).
            var ps = f.Operation.Parameters.Select(x => x.Name).ToList();
            var ok = string.Join(",", ps.Select((x, i) => $"{x}={(i == 0 && ps.Count > 1 ? "2022-04-25" : "2022-10-19")}"));
            var fn = "/odata/" + f.Name;
            foreach (var v in new[] { "'hier'", "hier", "2022-13-45", "9999-99-99", "'2022-10-19'", "2022-10-19T00:00:00Z", "1", "" })
            {
                Get($"{fn}({string.Join(",", ps.Select(x => $"{x}={Q(v)}"))})");
                if (ps.Count > 1) Get($"{fn}({ps[0]}=2022-04-25,{ps[1]}={Q(v)})");
            }
            Get($"{fn}()");
            Get($"{fn}");
            Get($"{fn}(Nope=2022-10-19)");
            Get($"{fn}({ok},Foo=1)");
            if (ps.Count > 1) Get($"{fn}({ps[1]}=2022-10-19,{ps[0]}=2022-04-25)");
            Get($"{fn}({ok})('COM-35238')");
            Get($"{fn}({ok})/$count");
            Get($"{fn}({ok})?$apply={Q("groupby((RegionCode),aggregate($count as N))")}", Full);
            Get($"{fn}({ok})?$filter={Q("Nope eq 1")}");
            Get($"{fn}({ok})?$orderby={Q("Type desc")}&$top=2");
            probes.Add(new("HEAD", $"{fn}({ok})?$top=1"));
        }
        foreach (var path in new[] { "$batch", "$all", "$crossjoin(Collectivites,Atds)", "$entity?$id=Collectivites('COM-35238')", "Nope", "Collectivites/Nope", "$metadata#x", "" })
            Get("/odata/" + path);
        Get("/odata/Collectivites?" + string.Join("&", Enumerable.Range(0, 20).Select(i => $"$filter=Population gt {i}")));
        return probes;
    }

    [Fact]
    public async Task Hundreds_of_generated_requests_get_a_complete_body_and_never_a_5xx_or_an_internal_detail()
    {
        var http = db.App.CreateClient();
        var client = new ODataTestClient(http);
        var probes = await CorpusAsync(client);
        Assert.True(probes.Count >= 300, $"{probes.Count} requêtes seulement");

        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        foreach (var probe in probes)
        {
            using var req = new HttpRequestMessage(new HttpMethod(probe.Method), probe.Url);
            if (probe.Accept is not null) req.Headers.TryAddWithoutValidation("Accept", probe.Accept);
            using var resp = await http.SendAsync(req);
            var body = await resp.Content.ReadAsStringAsync();
            var code = (int)resp.StatusCode;
            statuses[code] = statuses.GetValueOrDefault(code) + 1;
            var what = $"{probe.Method} {probe.Url}{(probe.Accept is null ? "" : " [" + probe.Accept + "]")} → {code}";

            if (code >= 500 && code != 501) failures.Add($"{what} (5xx): {Cut(body)}");
            if (probe.Method == "HEAD")
            {
                if (body.Length != 0) failures.Add($"{what}: HEAD avec un corps");
                continue;
            }
            var type = resp.Content.Headers.ContentType?.MediaType ?? "";
            if (code == 204) { if (body.Length != 0) failures.Add($"{what}: 204 avec un corps"); continue; }
            if (type.Contains("json"))
            {
                JsonElement json;
                try { json = JsonDocument.Parse(body).RootElement; }
                catch (JsonException e) { failures.Add($"{what}: JSON incomplet ({e.Message}) …{Cut(body[^Math.Min(120, body.Length)..])}"); continue; }
                if (code >= 400)
                {
                    if (!json.TryGetProperty("error", out var error) || !error.GetProperty("message").GetString()!.Contains(" — "))
                        failures.Add($"{what}: pas une erreur OData français — anglais: {Cut(body)}");
                    if (Internals.Match(body) is { Success: true } m)
                        failures.Add($"{what}: détail interne « {m.Value} » dans {Cut(body)}");
                }
            }
            else if (code >= 400) failures.Add($"{what}: erreur sans corps JSON ({type})");
            else if (code == 200 && !type.StartsWith("text/plain") && !type.Contains("xml")) failures.Add($"{what}: type {type}");
            if (code == 405 && !resp.Content.Headers.Allow.SequenceEqual(["GET", "HEAD"])) failures.Add($"{what}: 405 sans Allow: GET, HEAD");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} échecs sur {probes.Count} requêtes ({string.Join(", ", statuses.OrderBy(x => x.Key).Select(x => $"{x.Key}×{x.Value}"))}):\n" + string.Join("\n", failures.Take(80).Select(f => f.Length > 400 ? f[..400] + "…" : f)));
        // The corpus exercises both sides: answers and refusals.
        Assert.True(statuses.GetValueOrDefault(200) > 50 && statuses.GetValueOrDefault(400) > 50 && statuses.ContainsKey(501) && statuses.ContainsKey(405));
    }

    static string Cut(string s) => s.Length <= 300 ? s : s[..300] + "…";
}
