using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Map;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// OData answers are kept per data release (OData/ODataCaching.cs): the same request comes from memory
/// until the next release, and only the same request does (key literals are case-sensitive, the metadata
/// level changes the body). On a copy of the reference data with no observation, so every open
/// collectivité here is one this test writes.
/// </summary>
public sealed class ODataCacheTests : IAsyncLifetime
{
    string connectionString = null!;
    NpgsqlDataSource db = null!;
    WebApplicationFactory<Program> app = null!;

    public async Task InitializeAsync()
    {
        connectionString = await TemplateDatabases.CopyOfReferenceAsync("odata-cache");
        db = Database.CreateDataSource(connectionString);
        app = TestApp.On(connectionString);
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await db.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(connectionString);
    }

    /// <summary>A commune seen open on 2022-10-19, written as the status import writes it.</summary>
    async Task OpenOnAsync(string communeCode)
    {
        await using var cmd = db.CreateCommand("""
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, match_method)
            select siren, id, date '2022-10-19', 'odf-2022-10-19', true, 'siren' from collectivite where type = 'COM' and code = $1
            """);
        cmd.Parameters.AddWithValue(communeCode);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    async Task ReleaseAsync()
    {
        await using var cmd = db.CreateCommand("insert into data_release (kind, vintage, checksum) values ('status', '2022-10-19', md5(random()::text))");
        await cmd.ExecuteNonQueryAsync();
        await MapCache.EvictAsync(app.Services);
    }

    static async Task<long> CountAsync(HttpClient client, string url)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync(url));
        return doc.RootElement.GetProperty("@odata.count").GetInt64();
    }

    [Fact]
    public async Task An_answer_comes_from_memory_until_the_next_release_and_only_for_the_same_request()
    {
        var client = app.CreateClient();
        const string open = "/odata/Collectivites?$filter=Type eq 'COM' and IsOpen&$count=true&$select=Id";
        await OpenOnAsync("35238"); // Rennes
        await ReleaseAsync();
        Assert.Equal(1, await CountAsync(client, open));

        // Brest written behind the service's back, without a release: the same request is the answer in
        // memory; another request (one more option) is computed and sees it.
        await OpenOnAsync("29019");
        Assert.Equal(1, await CountAsync(client, open));
        Assert.Equal(2, await CountAsync(client, open + "&$top=5"));

        // The next release shows Brest to the first request too.
        await ReleaseAsync();
        Assert.Equal(2, await CountAsync(client, open));
    }

    [Fact]
    public async Task Requests_that_differ_only_in_case_or_metadata_level_get_their_own_answer()
    {
        var client = app.CreateClient();
        using (var hit = await client.GetAsync("/odata/Collectivites('COM-35238')?$select=Name"))
        {
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
