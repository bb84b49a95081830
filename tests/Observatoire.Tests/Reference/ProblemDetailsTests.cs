using System.Net;
using System.Text.Json;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

public sealed class ProblemDetailsTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    [Theory]
    [InlineData("GET", "/api/nexiste-pas", 404, "Ressource introuvable")]
    [InlineData("POST", "/health", 405, "Méthode non permise")]
    public async Task Framework_errors_are_french_problem_details(string method, string url, int status, string title)
    {
        var res = await db.App.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal((HttpStatusCode)status, res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(title, json.GetProperty("title").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("date=2022-02-30", "« date » = « 2022-02-30 »")]
    [InlineData("region=Bretagne", "« region » = « Bretagne »")]
    [InlineData("atd=Rennes%20M%C3%A9tropole", "« atd » = « Rennes Métropole »")]
    public async Task A_bad_parameter_gets_the_same_answer_from_every_endpoint(string query, string named)
    {
        var client = db.App.CreateClient();
        var details = new HashSet<string>();
        foreach (var path in new[] { "/api/indicators", "/api/geo/regions", "/tiles/communes/8/127/88.pbf", "/api/reports/regions.csv" })
        {
            var res = await client.GetAsync($"{path}?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
            Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
            var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Paramètre invalide", json.GetProperty("title").GetString());
            var detail = json.GetProperty("detail").GetString()!;
            Assert.Contains(named, detail);
            details.Add(detail);
        }
        Assert.Single(details);
    }
}
