using System.Buffers;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Extensions;
using Microsoft.AspNetCore.OData.Query;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.IO;
using Microsoft.Net.Http.Headers;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;
using Npgsql;

namespace Observatoire.OData;

/// <summary>
/// The fast path of the commonest OData response: a page of one entity set, plain ($filter,
/// $search, $orderby, $top, $skip, $count, and a $select of properties; no $expand, $apply,
/// $compute), in the default format (JSON, minimal metadata, OData 4.0). That is what Power Query
/// and scripts page through. The library writes each row through ODataResource and ODataProperty
/// objects and an async writer call per value: 40 % of such a request's CPU on the benchmark
/// (docs/benchmarks.md). Here the query selects the columns of the selected properties, the page
/// and its count go to PostgreSQL in one round trip (<see cref="ReadAsync"/>), and a Utf8JsonWriter
/// writes, from the reader, what the library would write: the same properties in the same order
/// (the model's), the same values (ODataUtf8JsonWriter's formats and escaping), the same
/// annotations (context URL with the select list, count, next link after the rows). Any other
/// request, or a client asking for anything else, goes to the library. PlainPageTests compares
/// both answers on a list of queries; <c>OData:PlainPageWriter=false</c> turns this path off.
/// </summary>
public sealed class PlainPageWriter
{
    public const string MeterName = "Observatoire.OData";
    const string ContentType = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8";

    /// <summary>Query options the fast path knows; any other $option sends the request to the library.</summary>
    static readonly HashSet<string> PlainOptions = new(StringComparer.OrdinalIgnoreCase)
        { "$filter", "$search", "$orderby", "$top", "$skip", "$count", "$select" };

    // Same encoder as the library's ODataUtf8JsonWriter: accented letters as they are, quotes and
    // control characters escaped.
    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    readonly bool enabled;
    readonly Counter<long> pages;
    readonly ConcurrentDictionary<(IEdmEntityType, Type), EntityShape?> shapes = new();

    public PlainPageWriter(IConfiguration config, IMeterFactory meters)
    {
        enabled = config.GetValue("OData:PlainPageWriter", true);
        pages = meters.Create(MeterName).CreateCounter<long>("observatoire.odata.plain_pages",
            description: "Pages d'entités écrites par le chemin rapide (les autres passent par le sérialiseur de la bibliothèque).");
    }

    /// <summary>What to select and how to write it; null when the request needs the library.</summary>
    public sealed record Plan(EntityShape Shape, EntityShape.Property[] Selected, string ContextUrl);

    public Plan? TryPlan(HttpRequest request, ODataQueryOptions options, Type elementType)
    {
        if (!enabled || !DefaultFormat(request)) return null;
        foreach (var key in request.Query.Keys)
            if (key.StartsWith('$') && !PlainOptions.Contains(key)) return null;
        if (options.Apply is not null || options.Compute is not null || options.SkipToken is not null) return null;

        var path = request.ODataFeature().Path;
        if (path is not { Count: 1 }) return null;
        var set = path.LastSegment switch
        {
            EntitySetSegment s => s.EntitySet,
            OperationImportSegment { EntitySet: IEdmEntitySet s } => s,
            _ => null,
        };
        if (set is null) return null;
        var shape = shapes.GetOrAdd((set.EntityType, elementType), k => EntityShape.TryCreate(k.Item1, k.Item2));
        if (shape is null) return null;

        var metadata = request.CreateODataLink(MetadataSegment.Instance);
        if (options.SelectExpand?.SelectExpandClause is not { } clause)
            return new Plan(shape, shape.Properties, $"{metadata}#{set.Name}");
        if (clause.AllSelected) return null; // $select=* or $expand: the library's
        var names = new List<string>();
        foreach (var item in clause.SelectedItems)
        {
            if (item is not PathSelectItem { SelectedPath: { Count: 1 } p } pi || p.LastSegment is not PropertySegment ps
                || (pi.FilterOption, pi.OrderByOption, pi.TopOption, pi.SkipOption, pi.CountOption, pi.SearchOption, pi.ComputeOption)
                   is not (null, null, null, null, null, null, null)
                || pi.SelectAndExpand is { } nested && (!nested.AllSelected || nested.SelectedItems.Any())) // the parser's empty clause of a plain property
                return null;
            if (!names.Contains(ps.Property.Name)) names.Add(ps.Property.Name);
        }
        if (names.Count == 0) return null;
        var selected = shape.Properties.Where(x => names.Contains(x.Name)).ToArray(); // model order, as the library
        if (selected.Length != names.Count) return null;
        return new Plan(shape, selected, $"{metadata}#{set.Name}({string.Join(',', names)})");
    }

    /// <summary>
    /// The page's query: the selected columns (all of them without $select), in the plan's order and named
    /// after the properties, which is how <see cref="ReadAsync"/> reads them.
    /// </summary>
    public static IQueryable Project(IQueryable rows, Plan plan)
    {
        var x = Expression.Parameter(plan.Shape.ClrType, "x");
        var init = Expression.MemberInit(Expression.New(plan.Shape.ClrType),
            plan.Selected.Select(p => Expression.Bind(p.Clr, Expression.Property(x, p.Clr))));
        // The method itself, not its name: Expression.Call(typeof(Queryable), "Select", …) searches Queryable's methods each time.
        var select = Expression.Call(QueryableMethods.Select.MakeGenericMethod(plan.Shape.ClrType, plan.Shape.ClrType),
            rows.Expression, Expression.Quote(Expression.Lambda(init, x)));
        return rows.Provider.CreateQuery(select);
    }

    /// <summary>
    /// Reads the page (<paramref name="page"/>: <see cref="Project"/>ed, one row more than
    /// <paramref name="pageSize"/>) and the count of <paramref name="counted"/> in one round trip, and writes the
    /// answer as it reads the rows. EF translates both queries (its SQL, its parameters, its query cache), but
    /// the two statements go to PostgreSQL as one <see cref="NpgsqlBatch"/>, which EF cannot send: a count on
    /// its own is planned once per connection (PostgreSQL's plan cache keeps a generic plan for it), while as a
    /// subquery of the page's statement it was planned again with the page at every request, and the rows are
    /// written from the reader instead of being materialised into entities first. Together about 15 % of a new
    /// URL's CPU, and a third of its allocations (docs/benchmarks.md, "Runs of 2026-12-01 19:00–20:40 UTC").
    /// </summary>
    public async Task<IActionResult> ReadAsync(DbContext db, HttpRequest request, Plan plan, IQueryable page, IQueryable? counted, int pageSize, CancellationToken ct)
    {
        await using var pageCommand = page.CreateDbCommand();
        await using var countCommand = counted is null ? null : Ones(counted).CreateDbCommand();
        var body = ODataGuard.Buffers.GetStream(Guid.Empty);
        request.HttpContext.Response.RegisterForDisposeAsync(body);
        var more = false;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // The connection's own command timeout (30 s unless the connection string says otherwise): with EF's, which
            // differs, Npgsql would set the socket's timeouts before and after every execution (setsockopt). The request
            // budget (10 s by default) cancels the batch through ct.
            await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection());
            if (countCommand is not null) batch.BatchCommands.Add(Statement($"select count(*) from ({countCommand.CommandText}) as counted", countCommand));
            batch.BatchCommands.Add(Statement(pageCommand.CommandText, pageCommand));
            await using var rd = await batch.ExecuteReaderAsync(ct);
            await using var w = new Utf8JsonWriter((IBufferWriter<byte>)body, WriterOptions);
            w.WriteStartObject();
            w.WriteString(Names.Context, plan.ContextUrl);
            if (countCommand is not null)
            {
                await rd.ReadAsync(ct);
                w.WriteNumber(Names.Count, rd.GetInt64(0));
                await rd.NextResultAsync(ct);
            }
            CheckColumns(rd, plan);
            w.WriteStartArray(Names.Value);
            for (var n = 0; await rd.ReadAsync(ct); n++)
            {
                if (n == pageSize) { more = true; break; }
                w.WriteStartObject();
                for (var i = 0; i < plan.Selected.Length; i++)
                {
                    var p = plan.Selected[i];
                    w.WritePropertyName(p.JsonName);
                    if (rd.IsDBNull(i)) w.WriteNullValue();
                    else p.Write(w, rd, i);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (more) w.WriteString(Names.NextLink, request.GetNextPageLink(pageSize, null, null).AbsoluteUri);
            w.WriteEndObject();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        pages.Add(1);
        return new PageResult(body);
    }

    /// <summary>SELECT 1 for each counted row: the smallest statement to count around.</summary>
    static IQueryable Ones(IQueryable q)
    {
        var x = Expression.Parameter(q.ElementType, "x");
        return q.Provider.CreateQuery(Expression.Call(QueryableMethods.Select.MakeGenericMethod(q.ElementType, typeof(int)),
            q.Expression, Expression.Quote(Expression.Lambda(Expression.Constant(1), x))));
    }

    static NpgsqlBatchCommand Statement(string sql, DbCommand from)
    {
        var statement = new NpgsqlBatchCommand(sql);
        foreach (NpgsqlParameter p in from.Parameters) statement.Parameters.Add(p.Clone());
        return statement;
    }

    /// <summary>Project names the page's columns after the plan's properties, in its order; anything else is a bug here.</summary>
    static void CheckColumns(DbDataReader rd, Plan plan)
    {
        if (rd.FieldCount != plan.Selected.Length
            || plan.Selected.Where((p, i) => !string.Equals(rd.GetName(i), p.Name, StringComparison.OrdinalIgnoreCase)).Any())
            throw new UnreachableException($"Colonnes inattendues : {string.Join(',', Enumerable.Range(0, rd.FieldCount).Select(rd.GetName))}");
    }

    /// <summary>The answer, written whole before the response starts (a database error is still a clean 4xx/5xx).</summary>
    sealed class PageResult(RecyclableMemoryStream body) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            response.Headers["OData-Version"] = "4.0";
            foreach (var block in body.GetReadOnlySequence()) response.BodyWriter.Write(block.Span);
            await response.BodyWriter.FlushAsync(context.HttpContext.RequestAborted);
        }
    }

    static class Names
    {
        public static readonly JsonEncodedText Context = JsonEncodedText.Encode("@odata.context");
        public static readonly JsonEncodedText Count = JsonEncodedText.Encode("@odata.count");
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText NextLink = JsonEncodedText.Encode("@odata.nextLink");
    }

    /// <summary>
    /// The library's default answer: JSON with minimal metadata, OData 4.0, UTF-8. The client's
    /// preferred media range (highest q, first on ties, as content negotiation picks) must be JSON
    /// or a wildcard with no parameter but those; anything else (full metadata, IEEE754Compatible,
    /// $format, another version, annotations asked for) is the library's.
    /// </summary>
    static bool DefaultFormat(HttpRequest request)
    {
        var h = request.Headers;
        if (h.ContainsKey(HeaderNames.AcceptCharset)) return false;
        foreach (var name in (ReadOnlySpan<string>)["OData-Version", "OData-MaxVersion"])
            if (h.TryGetValue(name, out var v) && v.ToString().Trim() != "4.0") return false;
        foreach (var prefer in h["Prefer"])
            foreach (var token in (prefer ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!token.StartsWith("odata.maxpagesize=", StringComparison.OrdinalIgnoreCase)
                    && !token.StartsWith("maxpagesize=", StringComparison.OrdinalIgnoreCase)) return false;
        if (!h.ContainsKey(HeaderNames.Accept)) return true;
        if (!MediaTypeHeaderValue.TryParseList(h[HeaderNames.Accept], out var accept) || accept.Count == 0) return false;
        var best = accept[0];
        foreach (var m in accept) if ((m.Quality ?? 1) > (best.Quality ?? 1)) best = m;
        if (best.Quality == 0) return false;
        var type = best.MediaType.Value;
        if (!string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase) && type is not ("*/*" or "application/*")) return false;
        foreach (var p in best.Parameters)
        {
            var (name, value) = (p.Name.Value ?? "", p.Value.Value?.Trim('"') ?? "");
            var ok = name.ToLowerInvariant() switch
            {
                "q" => true,
                "odata.metadata" => value.Equals("minimal", StringComparison.OrdinalIgnoreCase),
                "odata.streaming" => value.Equals("true", StringComparison.OrdinalIgnoreCase),
                "charset" => value.Equals("utf-8", StringComparison.OrdinalIgnoreCase),
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }
}

/// <summary>An entity type's structural properties in model order, each with the writer of its column.</summary>
public sealed class EntityShape
{
    /// <param name="Write">Writes the value of a non-null column of this property.</param>
    public sealed record Property(string Name, JsonEncodedText JsonName, PropertyInfo Clr, Action<Utf8JsonWriter, DbDataReader, int> Write);

    public required Type ClrType { get; init; }
    public required Property[] Properties { get; init; }

    /// <summary>Null when a property has no CLR counterpart or a type the writer does not know (the library then writes it).</summary>
    public static EntityShape? TryCreate(IEdmEntityType edm, Type clr)
    {
        if (clr.Name != edm.Name || clr.GetConstructor(Type.EmptyTypes) is null || edm.IsOpen || edm.BaseType is not null) return null;
        var props = new List<Property>();
        foreach (var p in edm.StructuralProperties())
        {
            var info = clr.GetProperty(p.Name);
            if (info is not { CanRead: true, CanWrite: true }) return null;
            var write = JsonValues.For(info, p.Type);
            if (write is null) return null;
            props.Add(new Property(p.Name, JsonEncodedText.Encode(p.Name), info, write));
        }
        return new EntityShape { ClrType = clr, Properties = [.. props] };
    }
}

/// <summary>Values as ODataUtf8JsonWriter writes them without IEEE754Compatible, read from the page's columns.</summary>
static class JsonValues
{
    /// <summary>Writes a non-null column holding the property's values, for the CLR and EDM types below.</summary>
    public static Action<Utf8JsonWriter, DbDataReader, int>? For(PropertyInfo p, IEdmTypeReference edm)
    {
        var clr = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        if (edm.IsCollection())
            return p.PropertyType == typeof(List<string>) && edm.AsCollection().ElementType().PrimitiveKind() == EdmPrimitiveTypeKind.String
                ? (w, r, i) => Write(w, r.GetFieldValue<string[]>(i))
                : null;
        return edm.PrimitiveKind() switch
        {
            EdmPrimitiveTypeKind.String when clr == typeof(string) => (w, r, i) => w.WriteStringValue(r.GetString(i)),
            EdmPrimitiveTypeKind.Int64 when clr == typeof(long) => (w, r, i) => w.WriteNumberValue(r.GetInt64(i)),
            EdmPrimitiveTypeKind.Int32 when clr == typeof(int) => (w, r, i) => w.WriteNumberValue(r.GetInt32(i)),
            EdmPrimitiveTypeKind.Boolean when clr == typeof(bool) => (w, r, i) => w.WriteBooleanValue(r.GetBoolean(i)),
            EdmPrimitiveTypeKind.Double when clr == typeof(double) => (w, r, i) => Write(w, r.GetDouble(i)),
            EdmPrimitiveTypeKind.Date when clr == typeof(DateOnly) => (w, r, i) => Write(w, r.GetFieldValue<DateOnly>(i)),
            _ => null,
        };
    }

    static void Write(Utf8JsonWriter w, string[] v)
    {
        w.WriteStartArray();
        foreach (var s in v) w.WriteStringValue(s);
        w.WriteEndArray();
    }

    static void Write(Utf8JsonWriter w, DateOnly v)
    {
        Span<byte> text = stackalloc byte[10];
        v.TryFormat(text, out var n, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        w.WriteStringValue(text[..n]);
    }

    /// <summary>As ODataUtf8JsonWriter: NaN and infinities as strings, "R" format, ".0" after an integral value.</summary>
    static void Write(Utf8JsonWriter w, double v)
    {
        if (double.IsNaN(v)) { w.WriteStringValue("NaN"u8); return; }
        if (double.IsPositiveInfinity(v)) { w.WriteStringValue("INF"u8); return; }
        if (double.IsNegativeInfinity(v)) { w.WriteStringValue("-INF"u8); return; }
        Span<byte> text = stackalloc byte[34];
        v.TryFormat(text, out var n, "R", CultureInfo.InvariantCulture);
        if (text[..n].IndexOfAny("eE."u8) < 0) { text[n++] = (byte)'.'; text[n++] = (byte)'0'; }
        w.WriteRawValue(text[..n], skipInputValidation: true);
    }
}
