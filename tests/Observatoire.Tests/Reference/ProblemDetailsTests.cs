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
}
