using System.Collections;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.OData.Query.Wrapper;
using Microsoft.OData.UriParser;
using Microsoft.OData.UriParser.Aggregation;

namespace Observatoire.OData;

/// <summary>
/// The answer to a $apply page when the library's serializer cannot write it. Grouping by a
/// navigation's property (groupby((Epci/Name),…)) makes a group for the rows without that navigation,
/// whose Name is null: the serializer refuses null for a non-nullable property and stops mid-body.
/// The page is already in memory (ObservatoireQueryAttribute reads it first) and the body is
/// buffered (ODataGuard), so the same rows are written here instead: the group keys and aggregates
/// as the library writes them (nested keys as objects), a group whose navigation is absent as null.
/// </summary>
public static class ApplyPageWriter
{
    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The context URL of a $apply answer: the set and the properties its last groupby/aggregate returns.</summary>
    public static string ContextUrl(string metadata, string set, ApplyClause apply)
    {
        var names = new List<string>();
        switch (apply.Transformations.LastOrDefault())
        {
            case GroupByTransformationNode g:
                names.AddRange(g.GroupingProperties.Select(Name));
                if (g.ChildTransformations is AggregateTransformationNode a) names.AddRange(a.AggregateExpressions.Select(x => x.Alias));
                break;
            case AggregateTransformationNode aggregate:
                names.AddRange(aggregate.AggregateExpressions.Select(x => x.Alias));
                break;
        }
        return names.Count == 0 ? $"{metadata}#{set}" : $"{metadata}#{set}({string.Join(',', names)})";
    }

    static string Name(GroupByPropertyNode p) => p.ChildTransformations.Count == 0
        ? p.Name
        : $"{p.Name}({string.Join(',', p.ChildTransformations.Select(Name))})";

    public static async Task WriteAsync(HttpResponse response, string contextUrl, IEnumerable rows, long? count, Uri? nextLink)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8";
        response.Headers["OData-Version"] = "4.0";
        await using var w = new Utf8JsonWriter(response.Body, Options);
        w.WriteStartObject();
        w.WriteString("@odata.context", contextUrl);
        if (count is { } n) w.WriteNumber("@odata.count", n);
        w.WriteStartArray("value");
        foreach (var row in rows) WriteValue(w, row, top: true);
        w.WriteEndArray();
        if (nextLink is not null) w.WriteString("@odata.nextLink", nextLink.AbsoluteUri);
        w.WriteEndObject();
    }

    static void WriteValue(Utf8JsonWriter w, object? value, bool top = false)
    {
        switch (value)
        {
            case DynamicTypeWrapper d when !top && d.Values.Values.All(IsAbsent):
                w.WriteNullValue(); // the group of rows without this navigation
                break;
            case DynamicTypeWrapper d:
                w.WriteStartObject();
                foreach (var (name, v) in d.Values)
                {
                    w.WritePropertyName(name);
                    WriteValue(w, v);
                }
                w.WriteEndObject();
                break;
            case null:
                w.WriteNullValue();
                break;
            case DateOnly date:
                w.WriteStringValue(date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                JsonSerializer.Serialize(w, value, value.GetType());
                break;
        }
    }

    static bool IsAbsent(object? v) => v is null || v is DynamicTypeWrapper d && d.Values.Values.All(IsAbsent);
}
