using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

public sealed class HealthTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    [Fact]
    public async Task Health_reports_the_database_and_the_vintage()
    {
        var res = await db.App.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal("ok", json.GetProperty("database").GetString());
        Assert.Equal("COG 2026", json.GetProperty("vintage").GetString());
    }

    [Fact]
    public async Task Health_answers_503_with_the_same_shape_when_the_database_is_unreachable()
    {
        await using var app = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
            b.UseSetting("ConnectionStrings:Observatoire", "Host=127.0.0.1;Port=1;Username=postgres;Database=none;Timeout=2"));
        var res = await app.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, res.StatusCode);
        var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.NotEqual("ok", json.GetProperty("database").GetString());
        Assert.True(json.TryGetProperty("status", out _));
        Assert.True(json.TryGetProperty("vintage", out _));
    }
}
