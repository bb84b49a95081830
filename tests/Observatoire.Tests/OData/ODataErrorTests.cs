using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>Bad input and broken limits: a 4xx OData error a person can act on, never a 500, never a stack trace.</summary>
public sealed class ODataErrorTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    // (path, query options, expected status). Kept as a list: add to it when a new case is found.
    public static readonly TheoryData<string, string, int> BadRequests = new()
    {
        { "Collectivites", "$top=5000000", 400 },                                       // MaxTop
        { "Collectivites", "$top=-1", 400 },
        { "Collectivites", "$top=abc", 400 },
        { "Collectivites", "$skip=-5", 400 },
        { "Collectivites", "$skip=9999999", 400 },                                      // MaxSkip
        { "Collectivites", "$filter=Nope eq 1", 400 },                                  // unknown property
        { "Collectivites", "$filter=Population eq 'abc'", 400 },                        // type mismatch
        { "Collectivites", "$filter=Population gt", 400 },                              // syntax
        { "Collectivites", "$filter=(Population gt 3", 400 },
        { "Collectivites", "$filter=Name eq 'Rennes", 400 },                            // unterminated string
        { "Collectivites", "$filter=Population div 0 eq 1", 400 },                      // division by zero in SQL
        { "Collectivites", "$filter=Name add 1 eq 2", 400 },
        { "Collectivites", "$filter=unknownfunction(Name)", 400 },
        { "Collectivites", "$filter=FirstSeenOpen eq 2022-13-45", 400 },                // bad date
        { "Collectivites", "$filter=" + string.Join(" or ", Enumerable.Repeat("true", 600)), 400 }, // MaxNodeCount (1,000 nodes; 7,200 characters encoded)
        { "Collectivites", "$filter=" + string.Join(" or ", Enumerable.Range(0, 300).Select(i => $"Code eq '{i}'")), 414 }, // over 8,192 characters once encoded
        { "Collectivites", "$filter=Atds/any(a:a/Collectivites/any(c:c/Atds/any(d:d/Id eq 'x')))", 400 }, // MaxAnyAllExpressionDepth
        { "Collectivites", "$orderby=Nope", 400 },
        { "Collectivites", "$orderby=Name sideways", 400 },
        { "Collectivites", "$orderby=Name,Code,Type,Population,RegionCode,DepartementCode", 400 }, // MaxOrderByNodeCount
        { "Collectivites", "$select=Nope", 400 },
        { "Collectivites", "$select=Name/Nope", 400 },
        { "Collectivites", "$expand=Nope", 400 },
        { "Collectivites", "$expand=Epci($expand=Region($expand=Region))", 400 },       // MaxExpansionDepth
        { "Collectivites", "$expand=Name", 400 },                                       // not a navigation
        { "Collectivites", "$count=maybe", 400 },
        { "Collectivites", "$apply=groupby(Type)", 400 },                               // missing parentheses
        { "Collectivites", "$apply=aggregate(IsOpen with average as X)", 400 },         // average on a Boolean
        { "Collectivites", "$apply=aggregate(Population with median as X)", 400 },
        { "Collectivites", "$apply=groupby((Nope),aggregate($count as N))", 400 },
        { "Collectivites", "$apply=filter(", 400 },
        { "Collectivites", "$filter=Population eq 1 and", 400 },
        { "Collectivites", "$foo=1", 400 },                                             // unknown system option
        { "Collectivites", "$search=(", 400 },
        { "Atds", "$search=lyon", 400 },                                                // $search only on Collectivites
        { "Collectivites('COM-00000')", "", 404 },
        { "Nope", "", 404 },
        { "Collectivites(1)", "", 400 },                                               // key of the wrong type
        { "Milestones('x')", "", 400 },
        { "StatusOn(Date=notadate)", "", 400 },
        { "StatusOn(Date='hier')", "", 400 },
        { "StatusOn(Date=2022-10-19,Foo=1)", "", 400 },                                 // unknown parameter
        { "StatusOn(Date=2022-10-19)('COM-35238')", "", 400 },                          // key after a function
        { "Collectivites", "$select=Epci/Name", 400 },
        { "$batch", "", 501 },
        { "Collectivites('COM-35238')/Epci/$ref", "", 501 },
        { "StatusOn(Date=2022-10-19)", "$filter=Nope eq 1", 400 },
        { "StatusOn(Date=2022-10-19)", "$top=5000000", 400 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_answers_a_4xx_OData_error_in_French_and_English_without_stack_trace(string path, string query, int status)
    {
        var url = "/odata/" + path + (query.Length > 0 ? "?" + string.Join("&", query.Split('&').Select(q =>
        {
            var i = q.IndexOf('=');
            return i < 0 ? q : q[..i] + "=" + Uri.EscapeDataString(q[(i + 1)..]);
        })) : "");
        var (code, json, text) = await new ODataTestClient(db.App.CreateClient()).GetJsonAsync(url);
        Assert.True(code == status, $"{url} → {code} {text}");
        var error = json.GetProperty("error");
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains(" — ", message);                        // French — English
        Assert.Matches("[éèàêç]|requête|Requête|Ressource|propriété", message);
        Assert.True(error.TryGetProperty("details", out var details) && details.GetArrayLength() > 0);
        Assert.DoesNotContain("innererror", text);
        Assert.DoesNotContain("stacktrace", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Npgsql", text);
    }

    [Fact]
    public async Task The_list_covers_at_least_thirty_cases_and_writes_are_refused()
    {
        Assert.True(BadRequests.Count() >= 30);
        var http = db.App.CreateClient();
        var resp = await http.PostAsync("/odata/Collectivites", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(405, (int)resp.StatusCode);
        Assert.Equal("GET, HEAD", string.Join(", ", resp.Content.Headers.Allow));
        Assert.Contains("\"error\"", await resp.Content.ReadAsStringAsync());
    }
}
