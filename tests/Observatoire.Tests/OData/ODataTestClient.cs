using System.Text.Json;
using System.Xml;
using Microsoft.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.Edm.Csdl;

namespace Observatoire.Tests.OData;

/// <summary>
/// Reads the service as a standard OData client does: the model from $metadata with
/// Microsoft.OData.Edm's CsdlReader, each response with Microsoft.OData.Core's ODataMessageReader
/// (Microsoft.OData.Client is not available on this NuGet mirror).
/// </summary>
public sealed class ODataTestClient(HttpClient http)
{
    IEdmModel? model;

    public HttpClient Http => http;

    public async Task<IEdmModel> ModelAsync()
    {
        if (model is not null) return model;
        var xml = await http.GetStringAsync("/odata/$metadata");
        using var r = XmlReader.Create(new StringReader(xml));
        if (!CsdlReader.TryParse(r, out var m, out var errors))
            throw new InvalidOperationException("CSDL invalide : " + string.Join("; ", errors.Select(e => e.ErrorMessage)));
        return model = m;
    }

    public sealed record Page(List<Dictionary<string, object?>> Rows, long? Count, Uri? NextLink);

    /// <summary>
    /// One page of an entity set (or of a function returning one), read with ODataMessageReader.
    /// <paramref name="maxPageSize"/> sends Prefer: odata.maxpagesize, as Power BI and Excel may.
    /// </summary>
    public async Task<Page> GetPageAsync(string url, string entitySet, int? maxPageSize = null)
    {
        var m = await ModelAsync();
        var set = m.EntityContainer.FindEntitySet(entitySet) ?? throw new ArgumentException(entitySet);
        using var req = Get(url, maxPageSize);
        using var resp = await http.SendAsync(req);
        var body = await resp.Content.ReadAsByteArrayAsync();
        if (!resp.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)resp.StatusCode} {url}: {System.Text.Encoding.UTF8.GetString(body)}");
        var msg = new ResponseMessage(resp, body);
        var settings = new ODataMessageReaderSettings
        {
            // $select / $apply answers carry only some properties, and $apply adds aggregated ones.
            Validations = ValidationKinds.All & ~ValidationKinds.ThrowOnUndeclaredPropertyForNonOpenType,
            BaseUri = http.BaseAddress,
        };
        using var reader = new ODataMessageReader((IODataResponseMessageAsync)msg, settings, m);
        var rr = await reader.CreateODataResourceSetReaderAsync(set, set.EntityType);
        var rows = new List<Dictionary<string, object?>>();
        var depth = 0;
        ODataResourceSet? top = null;
        while (await rr.ReadAsync())
        {
            switch (rr.State)
            {
                case ODataReaderState.ResourceSetStart: depth++; break;
                case ODataReaderState.ResourceSetEnd:
                    if (--depth == 0) top = (ODataResourceSet)rr.Item;
                    break;
                case ODataReaderState.ResourceEnd when depth == 1 && rr.Item is ODataResource res:
                    rows.Add(res.Properties.OfType<ODataProperty>().ToDictionary(p => p.Name, p => (object?)p.Value));
                    break;
            }
        }
        return new(rows, top?.Count, top?.NextPageLink);
    }

    /// <summary>Every row of a query, following @odata.nextLink; also returns the number of pages.</summary>
    public async Task<(List<Dictionary<string, object?>> Rows, int Pages)> GetAllAsync(string url, string entitySet)
    {
        var rows = new List<Dictionary<string, object?>>();
        var pages = 0;
        for (string? next = url; next is not null; pages++)
        {
            var p = await GetPageAsync(next, entitySet);
            rows.AddRange(p.Rows);
            next = p.NextLink?.PathAndQuery;
            if (pages > 1000) throw new InvalidOperationException("nextLink sans fin");
        }
        return (rows, pages);
    }

    /// <summary>The JSON of an answer, for $apply results whose rows are not entities.</summary>
    public async Task<(int Status, JsonElement Json, string Text)> GetJsonAsync(string url, int? maxPageSize = null)
    {
        using var req = Get(url, maxPageSize);
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        JsonElement json = default;
        try { json = JsonDocument.Parse(text).RootElement.Clone(); } catch (JsonException) { }
        return ((int)resp.StatusCode, json, text);
    }

    static HttpRequestMessage Get(string url, int? maxPageSize)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (maxPageSize is { } n) req.Headers.TryAddWithoutValidation("Prefer", $"odata.maxpagesize={n}");
        return req;
    }

    sealed class ResponseMessage(HttpResponseMessage resp, byte[] body) : IODataResponseMessageAsync
    {
        readonly Dictionary<string, string> headers = resp.Headers.Concat(resp.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        public IEnumerable<KeyValuePair<string, string>> Headers => headers;
        public int StatusCode { get => (int)resp.StatusCode; set => throw new NotSupportedException(); }
        public string? GetHeader(string headerName) => headers.GetValueOrDefault(headerName);
        public void SetHeader(string headerName, string headerValue) => headers[headerName] = headerValue;
        public Stream GetStream() => new MemoryStream(body);
        public Task<Stream> GetStreamAsync() => Task.FromResult<Stream>(new MemoryStream(body));
    }
}

static class Url
{
    /// <summary>Builds a relative URL with percent-encoded query options (as a client library would).</summary>
    public static string Of(string path, params (string Name, string Value)[] options) =>
        "/odata/" + path + (options.Length == 0 ? "" : "?" + string.Join("&", options.Select(o => o.Name + "=" + Uri.EscapeDataString(o.Value))));
}
