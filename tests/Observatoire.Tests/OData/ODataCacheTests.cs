using System.Net;
using System.Text.Json;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// OData answers are kept per data release (OData/ODataCaching.cs): from its second asking on, the same
/// request comes from memory until the next release, and only the same request does (key literals are case-sensitive, the metadata
/// level changes the body). On a copy of the reference data with no observation, so every open
/// collectivité here is one this test writes.
/// </summary>
public sealed class ODataCacheTests : IAsyncLifetime
{
    ReleaseScenario data = null!;

    public async Task InitializeAsync() => data = await ReleaseScenario.StartAsync("odata-cache");
    public Task DisposeAsync() => data.DisposeAsync().AsTask();

    static async Task<long> CountAsync(HttpClient client, string url)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync(url));
        return doc.RootElement.GetProperty("@odata.count").GetInt64();
    }

    [Fact]
    public async Task An_answer_comes_from_memory_from_its_second_request_until_the_next_release_and_only_for_the_same_request()
    {
        var client = data.App.CreateClient();
        const string open = "/odata/Collectivites?$filter=Type eq 'COM' and IsOpen&$count=true&$select=Id";
        await data.OpenOnAsync("35238"); // Rennes
        await data.ReleaseAsync();
        Assert.Equal(1, await CountAsync(client, open));

        // Brest written behind the service's back, without a release. A request asked once was not kept
        // (OData:CacheMinUses = 2): its second asking is computed and sees Brest, and is kept.
        await data.OpenOnAsync("29019");
        Assert.Equal(2, await CountAsync(client, open));

        // Quimper behind its back too: the same request is the answer in memory; another request (one
        // more option) is computed and sees it.
        await data.OpenOnAsync("29232");
        Assert.Equal(2, await CountAsync(client, open));
        Assert.Equal(3, await CountAsync(client, open + "&$top=5"));

        // The next release shows Quimper to the first request too.
        await data.ReleaseAsync();
        Assert.Equal(3, await CountAsync(client, open));
    }

    [Fact]
    public async Task Requests_that_differ_only_in_case_or_metadata_level_get_their_own_answer()
    {
        var client = data.App.CreateClient();
        for (var asked = 0; asked < 2; asked++) // kept from the second asking on
        {
            using var hit = await client.GetAsync("/odata/Collectivites('COM-35238')?$select=Name");
            Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
            Assert.Contains("Rennes", await hit.Content.ReadAsStringAsync());
        }
        // Key values are case-sensitive: no collectivité has the id "com-35238", whatever is in memory.
        using (var miss = await client.GetAsync("/odata/Collectivites('com-35238')?$select=Name"))
            Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);

        using var full = new HttpRequestMessage(HttpMethod.Get, "/odata/Collectivites('COM-35238')?$select=Name");
        full.Headers.Accept.ParseAdd("application/json;odata.metadata=full");
        using var fullAnswer = await client.SendAsync(full);
        Assert.Contains("\"@odata.id\"", await fullAnswer.Content.ReadAsStringAsync());
        Assert.DoesNotContain("\"@odata.id\"", await client.GetStringAsync("/odata/Collectivites('COM-35238')?$select=Name"));
    }
}
