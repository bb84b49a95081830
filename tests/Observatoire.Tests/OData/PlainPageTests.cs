using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OData.Edm;
using Observatoire.OData;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>
/// The fast writer of plain pages (PlainPageWriter) against the library's own serializer, which is
/// the reference: each request is sent as a client sends it (fast path) and again asking for
/// IEEE754Compatible=false, a parameter that changes nothing in the payload but that the fast path
/// leaves to the library. Bodies must be equal byte for byte. The service's meter tells which path
/// answered. Values themselves are checked against SQL by the other OData tests.
/// </summary>
public sealed class PlainPageTests(SharedDatabase db) : IClassFixture<SharedDatabase>, IAsyncLifetime
{
    // The pages are counted as they are written: without the response cache, which may already hold
    // these answers from another class's requests to the shared app.
    readonly WebApplicationFactory<Program> app = db.App.WithWebHostBuilder(b => b.UseSetting("OData:CacheResponses", "false"));

    public Task InitializeAsync() => Task.CompletedTask;
    public Task DisposeAsync() => app.DisposeAsync().AsTask();

    const string LibraryAccept = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false";
    const string PowerBiAccept = "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7";

    /// <summary>Plain pages of every entity set and of the StatusOn function, with nulls, dates, doubles, lists, accents, quotes, paging.</summary>
    static readonly (string Url, string? Accept, int? MaxPageSize)[] PlainRequests =
    [
        (Url.Of("Collectivites", ("$filter", "Type eq 'COM' and RegionCode eq '53'"), ("$top", "100"), ("$count", "true"),
            ("$select", "Id,Siren,Code,Type,Name,Population,PopulationBand,DepartementCode,RegionCode,EpciSiren,IsObliged,IsOpen,FirstSeenOpen,DatasetCount,AtdCount")), null, null),
        (Url.Of("Collectivites", ("$top", "300"), ("$skip", "34000")), null, null),
        (Url.Of("Collectivites", ("$select", "Name,Id,FirstSeenOpen,IsOpen,Id"), ("$filter", "IsOpen"), ("$orderby", "FirstSeenOpen desc,Name"), ("$top", "200"), ("$count", "true")), null, null),
        (Url.Of("Collectivites", ("$select", "Id,Name,Population"), ("$filter", "startswith(Name,'L''') or contains(Name,'ÿ')"), ("$orderby", "Population desc"), ("$skip", "3"), ("$top", "40")), null, null),
        (Url.Of("Collectivites", ("$select", "Id,Type"), ("$filter", "Type in ('REG','DEP','COLOM')"), ("$count", "true")), "application/json", null),
        (Url.Of("Collectivites", ("$select", "Id,Name,DepartementCode"), ("$search", "saint"), ("$count", "true")), "*/*", null),
        (Url.Of("Collectivites", ("$select", "Id,Name"), ("$filter", "Type eq 'COM' and DepartementCode eq '35' and Name ne 'Rennes'"), ("$count", "true")), PowerBiAccept, 100),
        (Url.Of("Collectivites", ("$select", "Id"), ("$filter", "Name eq 'Nulle part'"), ("$count", "true")), null, null),
        (Url.Of("Collectivites", ("$select", "Id")), "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8", null),
        (Url.Of("Observations", ("$filter", "DatasetsLocal ne null or Url ne null"), ("$orderby", "ObservedOn desc"), ("$top", "400")), null, null),
        (Url.Of("Platforms"), null, null),
        (Url.Of("Platforms", ("$select", "HostedSirens,Name"), ("$filter", "HostedCount gt 3")), null, null),
        (Url.Of("Atds", ("$count", "true")), null, null),
        (Url.Of("AssociatedActors", ("$filter", "Latitude ne null"), ("$top", "500")), null, null),
        (Url.Of("Milestones"), null, null),
        (Url.Of("StatusOn(Date=2022-10-19)", ("$filter", "IsOpen and Type eq 'COM'"), ("$select", "Id,Date,IsOpen,DatasetCount"), ("$count", "true")), null, 50),
        (Url.Of("CollectiviteStatuses", ("$top", "20"), ("$skip", "5000")), null, null),
    ];

    /// <summary>Requests that need the library: its answer must not come from the fast path.</summary>
    static readonly (string Url, string? Accept, string? Header)[] LibraryRequests =
    [
        (Url.Of("Collectivites", ("$expand", "Epci($select=Name)"), ("$select", "Id"), ("$top", "5")), null, null),
        (Url.Of("Collectivites", ("$apply", "groupby((RegionCode),aggregate($count as N))")), null, null),
        (Url.Of("Collectivites", ("$compute", "Population mul 2 as Double"), ("$select", "Id,Double"), ("$top", "5")), null, null),
        (Url.Of("Collectivites", ("$select", "*"), ("$top", "5")), null, null),
        (Url.Of("Collectivites", ("$top", "5"), ("$format", "application/json;odata.metadata=full")), null, null),
        (Url.Of("Collectivites", ("$top", "5")), "application/json;odata.metadata=full", null),
        (Url.Of("Collectivites", ("$top", "5")), "application/json;odata.metadata=none", null),
        (Url.Of("Collectivites", ("$top", "5")), "application/json;IEEE754Compatible=true", null),
        (Url.Of("Collectivites", ("$top", "5")), null, "Prefer: odata.include-annotations=*"),
        (Url.Of("Collectivites", ("$top", "5")), null, "OData-MaxVersion: 4.01"),
        ("/odata/Collectivites('COM-35238')", null, null),
        ("/odata/Collectivites/$count", null, null),
    ];

    [Fact]
    public async Task Plain_pages_come_from_the_fast_path_byte_for_byte_as_the_library_writes_them()
    {
        using var pages = PlainPageCount(app.Services);
        var http = app.CreateClient();
        var failures = new List<string>();
        var nextLinks = 0;
        foreach (var (url, accept, maxPageSize) in PlainRequests)
        {
            var before = pages.Value;
            var (fastType, fast) = await GetAsync(http, url, accept, maxPageSize);
            var afterFast = pages.Value;
            var (libType, library) = await GetAsync(http, url, LibraryAccept, maxPageSize);
            if (afterFast - before != 1) failures.Add($"{url} : pas servie par le chemin rapide");
            if (pages.Value != afterFast) failures.Add($"{url} : la référence est passée par le chemin rapide");
            if (fast != library) failures.Add($"{url} :\n  rapide    {Cut(fast)}\n  librairie {Cut(library)}");
            if (fastType != libType.Replace(" IEEE754Compatible=false;", "")) failures.Add($"{url} : Content-Type {fastType} ≠ {libType}");
            using var doc = JsonDocument.Parse(fast);
            Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("value").ValueKind);
            if (doc.RootElement.TryGetProperty("@odata.nextLink", out _)) nextLinks++;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(nextLinks >= 3, $"{nextLinks} pages avec nextLink : la liste doit en comporter");
    }

    [Fact]
    public async Task Requests_the_fast_path_does_not_cover_are_answered_by_the_library()
    {
        using var pages = PlainPageCount(app.Services);
        var http = app.CreateClient();
        foreach (var (url, accept, header) in LibraryRequests)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            if (accept is not null) req.Headers.TryAddWithoutValidation("Accept", accept);
            if (header?.Split(": ") is [var name, var value]) req.Headers.TryAddWithoutValidation(name, value);
            using var resp = await http.SendAsync(req);
            var body = await resp.Content.ReadAsStringAsync();
            Assert.True(resp.IsSuccessStatusCode, $"{url} {accept} {header} → {(int)resp.StatusCode} {Cut(body)}");
            Assert.Equal(0, pages.Value);
        }
    }

    [Fact]
    public async Task Switched_off_in_configuration_every_page_is_the_library_s_and_the_same()
    {
        await using var off = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:Observatoire", db.ConnectionString)
            .UseSetting("OData:RequestBudgetSeconds", "120")
            .UseSetting("OData:CacheResponses", "false")
            .UseSetting("OData:PlainPageWriter", "false"));
        using var offPages = PlainPageCount(off.Services);
        using var onPages = PlainPageCount(app.Services);
        foreach (var (url, accept, maxPageSize) in PlainRequests.Take(3))
        {
            var (_, library) = await GetAsync(off.CreateClient(), url, accept, maxPageSize);
            var (_, fast) = await GetAsync(app.CreateClient(), url, accept, maxPageSize);
            Assert.Equal(library, fast);
        }
        Assert.Equal(0, offPages.Value);
        Assert.Equal(3, onPages.Value);
    }

    /// <summary>
    /// Doubles and dates as ODataUtf8JsonWriter writes them (OData JSON: NaN and infinities as strings), read
    /// from PostgreSQL's columns as the fast path reads the page.
    /// </summary>
    [Fact]
    public async Task Doubles_and_dates_are_written_in_the_library_s_formats()
    {
        var model = new EdmModel();
        var type = new EdmEntityType("T", nameof(Sample));
        type.AddKeys(type.AddStructuralProperty("Id", EdmPrimitiveTypeKind.String, isNullable: false));
        type.AddStructuralProperty("X", EdmPrimitiveTypeKind.Double, isNullable: true);
        type.AddStructuralProperty("D", EdmPrimitiveTypeKind.Date, isNullable: true);
        model.AddElement(type);
        var shape = EntityShape.TryCreate(type, typeof(Sample));
        Assert.NotNull(shape);

        async Task<string> Written(string x, string d)
        {
            await using var cmd = db.DataSource.CreateCommand($"select 'a'::text, {x}::float8, {d}::date");
            await using var rd = await cmd.ExecuteReaderAsync();
            Assert.True(await rd.ReadAsync());
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                for (var i = 0; i < shape.Properties.Length; i++)
                {
                    w.WritePropertyName(shape.Properties[i].JsonName);
                    if (rd.IsDBNull(i)) w.WriteNullValue();
                    else shape.Properties[i].Write(w, rd, i);
                }
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(ms.ToArray());
        }
        Assert.Equal("""{"Id":"a","X":44.831707,"D":"2022-10-19"}""", await Written("44.831707", "'2022-10-19'"));
        Assert.Equal("""{"Id":"a","X":3.0,"D":null}""", await Written("3", "null"));
        Assert.Equal("""{"Id":"a","X":-1E+21,"D":"0001-01-01"}""", await Written("-1e21", "'0001-01-01'"));
        Assert.Equal("""{"Id":"a","X":"NaN","D":null}""", await Written("'NaN'", "null"));
        Assert.Equal("""{"Id":"a","X":"INF","D":null}""", await Written("'Infinity'", "null"));
        Assert.Equal("""{"Id":"a","X":"-INF","D":null}""", await Written("'-Infinity'", "null"));
        Assert.Equal("""{"Id":"a","X":null,"D":null}""", await Written("null", "null"));

        // A type the writer does not know leaves the whole entity type to the library.
        var other = new EdmEntityType("T", nameof(Sample));
        other.AddKeys(other.AddStructuralProperty("Id", EdmPrimitiveTypeKind.String));
        other.AddStructuralProperty("X", EdmPrimitiveTypeKind.Decimal);
        Assert.Null(EntityShape.TryCreate(other, typeof(Sample)));
    }

    public sealed class Sample
    {
        public string Id { get; set; } = "";
        public double? X { get; set; }
        public DateOnly? D { get; set; }
    }

    static async Task<(string ContentType, string Body)> GetAsync(HttpClient http, string url, string? accept, int? maxPageSize)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null) req.Headers.TryAddWithoutValidation("Accept", accept);
        if (maxPageSize is { } n) req.Headers.TryAddWithoutValidation("Prefer", $"odata.maxpagesize={n}");
        using var resp = await http.SendAsync(req);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, $"{url} → {(int)resp.StatusCode} {Cut(body)}");
        Assert.Equal("4.0", resp.Headers.GetValues("OData-Version").Single());
        return (resp.Content.Headers.ContentType?.ToString() ?? "", body);
    }

    static string Cut(string s) => s.Length <= 600 ? s : s[..600] + "…";

    static AppCounter PlainPageCount(IServiceProvider app) => new(app, PlainPageWriter.MeterName, "observatoire.odata.plain_pages");
}
