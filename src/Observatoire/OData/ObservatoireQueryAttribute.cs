using System.Collections;
using System.Linq.Expressions;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.OData.Extensions;
using Microsoft.AspNetCore.OData.Query;
using Microsoft.AspNetCore.OData.Results;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace Observatoire.OData;

/// <summary>
/// [EnableQuery] with the service's limits, and three changes:
/// <list type="bullet">
/// <item>errors use <see cref="ODataErrors"/> (French + English, no stack trace);</item>
/// <item>the query runs before the response starts. The library normally enumerates the IQueryable
/// while it writes the body, so a database error arrives as HTTP 200 with a truncated JSON; here
/// the page and the $count are read first, and an error becomes a proper 4xx;</item>
/// <item>the page, the $count and a single entity are read asynchronously (EF, or a batch for a plain page). The library reads
/// the server-driven page with a blocking ToList (TruncatedCollection, AspNetCoreOData #775/#253)
/// and $count with a blocking Queryable.LongCount: under concurrency thread-pool threads then sit
/// in Socket.Receive. So this attribute builds the query with the library's own query options
/// (same translation, same validation, same stable ordering and nested paging) but takes over the
/// last step: Take(page size + 1), @odata.nextLink (the library's $skip form) and @odata.count.</item>
/// <item>a plain page (no $expand, $apply, $compute; default format) is projected and written by
/// <see cref="PlainPageWriter"/> instead of the library's serializer, which cost 40 % of its CPU; the page
/// and its $count are read in one round trip.</item>
/// </list>
/// </summary>
public sealed partial class ObservatoireQueryAttribute : EnableQueryAttribute
{
    public ObservatoireQueryAttribute()
    {
        PageSize = ODataSetup.PageSize;
        MaxTop = ODataSetup.MaxTop;
        MaxSkip = ODataSetup.MaxSkip;
        MaxExpansionDepth = ODataSetup.MaxExpansionDepth;
        MaxNodeCount = ODataSetup.MaxNodeCount;
        MaxAnyAllExpressionDepth = ODataSetup.MaxAnyAllDepth;
        MaxOrderByNodeCount = ODataSetup.MaxOrderByNodeCount;
        // EF translates member access on a null navigation itself; C# null checks only clutter the SQL.
        HandleNullPropagation = HandleNullPropagationOption.False;
        EnsureStableOrdering = true;
    }

    /// <summary>What OnActionExecuted built and OnResultExecutionAsync runs.</summary>
    sealed record PendingQuery(IQueryable Rows, IQueryable? CountOf, int PageSize, bool Single, bool CountOnly, PlainPageWriter.Plan? Plain = null, string? ApplyContextUrl = null);

    static readonly object PendingKey = new();

    /// <summary>Options applied after $apply/$filter/$search, i.e. not part of what $count counts.</summary>
    const AllowedQueryOptions NotCounted = AllowedQueryOptions.OrderBy | AllowedQueryOptions.Select | AllowedQueryOptions.Expand
        | AllowedQueryOptions.Skip | AllowedQueryOptions.Top | AllowedQueryOptions.SkipToken | AllowedQueryOptions.Count;

    public override void OnActionExecuting(ActionExecutingContext context)
    {
        try { base.OnActionExecuting(context); }
        catch (Exception e) when (ODataErrors.FromException(e) is { } err) { context.Result = ODataErrors.Result(err); }
        context.Result = Rewrite(context.Result);
    }

    public override void OnActionExecuted(ActionExecutedContext context)
    {
        if (context.Result is ObjectResult { Value: IQueryable or SingleResult, StatusCode: null or (>= 200 and < 300) } result
            && context.HttpContext.Response.StatusCode is >= 200 and < 300)
        {
            try
            {
                if (Build(context, result.Value) is { } pending)
                {
                    context.HttpContext.Items[PendingKey] = pending;
                    return;
                }
            }
            catch (Exception e) when (e is ODataException or NotSupportedException or NotImplementedException or ArgumentException or InvalidOperationException)
            {
                // The library answers these with 400 too (EnableQueryAttribute.OnActionExecuted).
                context.Result = ODataErrors.Result(ODataErrors.FromException(e) ?? ODataErrors.FromLibraryMessage(e.Message));
                return;
            }
        }
        // The library's own (synchronous) path: other results, and $levels (see Build).
        try { base.OnActionExecuted(context); }
        catch (Exception e) when (ODataErrors.FromException(e) is { } err) { context.Result = ODataErrors.Result(err); }
        context.Result = Rewrite(context.Result);
    }

    /// <summary>
    /// The query of the response, not executed: the library's ODataQueryOptions.ApplyTo pipeline
    /// ($apply, $filter, $search; stable $orderby; $select/$expand with nested paging; $skip, $top)
    /// minus its final LimitResults, which would run the query synchronously. Null for $levels, which
    /// only the library expands (its ProcessedSelectExpandClause is internal): that rare request keeps
    /// the library's path.
    /// </summary>
    PendingQuery? Build(ActionExecutedContext context, object value)
    {
        var request = context.HttpContext.Request;
        var single = value as SingleResult;
        var source = single?.Queryable ?? (IQueryable)value;
        var model = GetModel(source.ElementType, request, context.ActionDescriptor);
        var options = CreateAndValidateQueryOptions(request, new ODataQueryContext(model, source.ElementType, request.ODataFeature().Path));
        if (single is not null && (options.Filter, options.Count, options.OrderBy, options.Skip, options.Top) is not (null, null, null, null, null))
            throw new ODataException("The requested resource is not a collection. Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections.");
        if (options.SelectExpand?.SelectExpandClause is { } clause && HasLevels(clause)) return null;

        var settings = new ODataQuerySettings
        {
            PageSize = null, // no LimitResults: Take(page + 1) is added when the query runs
            EnsureStableOrdering = EnsureStableOrdering,
            HandleNullPropagation = HandleNullPropagation,
            EnableConstantParameterization = EnableConstantParameterization,
            EnableCorrelatedSubqueryBuffering = EnableCorrelatedSubqueryBuffering,
            HandleReferenceNavigationPropertyExpandFilter = HandleReferenceNavigationPropertyExpandFilter,
            MaxFunctionCallDepth = MaxFunctionCallDepth,
        };
        var counted = options.ApplyTo(source, settings, NotCounted);
        if (request.IsCountRequest()) return new(counted, counted, 0, false, true);

        // From here on the page size is set, as the library sets it: it makes the order stable
        // (key last) and bounds expanded collections (Take(page + 1) inside the projection).
        var pageSize = options.SelectExpand?.SelectExpandClause is { } expand ? ExpandPageSize(expand) : PageSize;
        settings.PageSize = pageSize;
        var rows = counted;
        if ((settings.EnsureStableOrdering ? options.GenerateStableOrder() : options.OrderBy) is { } order)
        {
            order.Compute = options.Compute;
            rows = order.ApplyTo(rows, settings);
            // Without $orderby or $apply the library orders by the key, which is never null: nothing
            // for NullOrdering to rewrite, and its walk of the whole query is spared.
            if (options.OrderBy is not null || options.Apply is not null) rows = NullOrdering.Apply(rows);
        }
        if (options.SkipToken is not null) rows = options.SkipToken.ApplyTo(rows, settings, options);
        var writer = context.HttpContext.RequestServices.GetRequiredService<PlainPageWriter>();
        var plain = single is null ? writer.TryPlan(request, options, source.ElementType) : null;
        if (plain is not null) rows = PlainPageWriter.Project(rows, plain);
        else if (options.SelectExpand is { } selectExpand)
        {
            selectExpand.Compute = options.Compute;
            request.ODataFeature().SelectExpandClause = selectExpand.SelectExpandClause;
            rows = selectExpand.ApplyTo(rows, settings);
        }
        if (options.Skip is not null) rows = options.Skip.ApplyTo(rows, settings);
        if (options.Top is not null) rows = options.Top.ApplyTo(rows, settings);
        var countOf = options.Count?.Value == true ? counted : null;
        var applyContext = options.Apply?.ApplyClause is { } apply && request.ODataFeature().Path.FirstSegment is EntitySetSegment or OperationImportSegment
            ? ApplyPageWriter.ContextUrl(request.CreateODataLink(MetadataSegment.Instance), request.ODataFeature().Path.NavigationSource()?.Name ?? "", apply)
            : null;
        return new(rows, countOf, PreferredPageSize(request, pageSize), single is not null, false, plain, applyContext);
    }

    /// <summary>The page size when $expand reaches collections: see ODataSetup.ExpandPageSize.</summary>
    int ExpandPageSize(SelectExpandClause clause) => CollectionDepth(clause) switch
    {
        0 => PageSize,
        1 => ODataSetup.ExpandPageSize,
        _ => ODataSetup.NestedExpandPageSize,
    };

    static int CollectionDepth(SelectExpandClause clause) => clause.SelectedItems.OfType<ExpandedNavigationSelectItem>()
        .Select(e => (e.NavigationSource is not null && e.PathToNavigationProperty.LastSegment is NavigationPropertySegment { NavigationProperty: var p } && p.Type.IsCollection() ? 1 : 0)
            + (e.SelectAndExpand is { } inner ? CollectionDepth(inner) : 0))
        .DefaultIfEmpty(0).Max();

    static bool HasLevels(SelectExpandClause clause) => clause.SelectedItems.OfType<ExpandedNavigationSelectItem>()
        .Any(e => e.LevelsOption is not null || (e.SelectAndExpand is { } inner && HasLevels(inner)));

    /// <summary>A client's Prefer: odata.maxpagesize=N lowers the page size, as in the library.</summary>
    static int PreferredPageSize(HttpRequest request, int pageSize)
    {
        foreach (var prefer in request.Headers["Prefer"])
            if (prefer is not null && MaxPageSize().Match(prefer) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var n) && n > 0)
                return Math.Min(n, pageSize);
        return pageSize;
    }

    [GeneratedRegex(@"(?:^|[\s,;])(?:odata\.)?maxpagesize=(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex MaxPageSize();

    /// <summary>The library answers a bad query with its own error object (message + stack trace): keep the message only.</summary>
    static IActionResult? Rewrite(IActionResult? r)
    {
        if (r is not ObjectResult { StatusCode: >= 400 } o) return r;
        var message = o.Value switch
        {
            SerializableError se => string.Join(" ", new[] { "Message", "ExceptionMessage" }
                .Select(k => se.TryGetValue(k, out var v) ? v?.ToString() : null).Where(v => !string.IsNullOrEmpty(v)).Distinct()),
            ODataError oe => oe.Message,
            string s => s,
            _ => null,
        };
        if (message is null) return r;
        var err = ODataErrors.FromLibraryMessage(message);
        return ODataErrors.Result(err with { Status = o.StatusCode ?? 400 });
    }

    public override async Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
    {
        if (context.Result is ObjectResult result)
        {
            var pending = context.HttpContext.Items.TryGetValue(PendingKey, out var p) ? p as PendingQuery : null;
            try
            {
                if (pending is not null) await RunAsync(context, result, pending, context.HttpContext.RequestAborted);
                else if (result.Value is IQueryable) _ = context.HttpContext.ODataFeature().TotalCount; // library path: count now, not mid-body
            }
            catch (Exception e) when (ODataErrors.FromException(e) is { } err)
            {
                context.Result = ODataErrors.Result(err);
            }
        }
        OnResultExecuting(context);
        if (context.Cancel) return;
        var executed = await next();
        if (executed.Exception is not null && !executed.ExceptionHandled && !context.HttpContext.Response.HasStarted
            && context.HttpContext.Items[PendingKey] is PendingQuery { ApplyContextUrl: { } contextUrl }
            && context.Result is ObjectResult { Value: IEnumerable rows })
        {
            // The library could not write this $apply page (ApplyPageWriter says when): write it here.
            executed.ExceptionHandled = true;
            var response = context.HttpContext.Response;
            response.Clear();
            var feature = context.HttpContext.ODataFeature();
            await ApplyPageWriter.WriteAsync(response, contextUrl, rows, feature.TotalCount, feature.NextLink);
        }
        OnResultExecuted(executed);
    }

    static async Task RunAsync(ResultExecutingContext context, ObjectResult result, PendingQuery q, CancellationToken ct)
    {
        var feature = context.HttpContext.ODataFeature();
        if (q.CountOnly)
        {
            result.Value = await LongCountAsync(q.CountOf!, ct);
            return;
        }
        if (q.Plain is not null)
        {
            var writer = context.HttpContext.RequestServices.GetRequiredService<PlainPageWriter>();
            var db = context.HttpContext.RequestServices.GetRequiredService<ODataDb>();
            context.Result = await writer.ReadAsync(db, context.HttpContext.Request, q.Plain, Take(q.Rows, q.PageSize + 1), q.CountOf, q.PageSize, ct);
            return;
        }
        // One row more than the page tells whether there is a next page.
        var page = await ToListAsync(Take(q.Rows, q.Single ? 2 : q.PageSize + 1), ct);
        if (q.Single)
        {
            if (page.Count > 1) throw new InvalidOperationException("More than one entity for a single-entity request.");
            if (page.Count == 0) context.Result = new StatusCodeResult(StatusCodes.Status404NotFound);
            else result.Value = page[0];
            return;
        }
        if (page.Count > q.PageSize)
        {
            page.RemoveAt(q.PageSize);
            feature.NextLink = context.HttpContext.Request.GetNextPageLink(q.PageSize, null, null);
        }
        if (q.CountOf is not null) feature.TotalCount = await LongCountAsync(q.CountOf, ct);
        result.Value = page.AsQueryable();
    }

    static IQueryable Take(IQueryable q, int n) =>
        q.Provider.CreateQuery(Expression.Call(QueryableMethods.Take.MakeGenericMethod(q.ElementType), q.Expression, Expression.Constant(n)));

    /// <summary>A List of the element type: the serializer reads the type from it.</summary>
    static IList ListOf(Type element) => (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;

    /// <summary>The rows in a List of the element type.</summary>
    static async Task<IList> ToListAsync(IQueryable q, CancellationToken ct)
    {
        var list = ListOf(q.ElementType);
        if (q is IAsyncEnumerable<object> rows)
            await foreach (var row in rows.WithCancellation(ct)) list.Add(row);
        else
            foreach (var row in q) list.Add(row); // not EF (never the case for our controllers)
        return list;
    }

    static async Task<long> LongCountAsync(IQueryable q, CancellationToken ct)
    {
        var count = Expression.Call(typeof(Queryable), nameof(Queryable.LongCount), [q.ElementType], q.Expression);
        return q.Provider is IAsyncQueryProvider ef
            ? await ef.ExecuteAsync<Task<long>>(count, ct)
            : q.Provider.Execute<long>(count);
    }
}
