using System.Collections;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.OData.Extensions;
using Microsoft.AspNetCore.OData.Query;

namespace Observatoire.OData;

/// <summary>
/// [EnableQuery] with the service's limits, and two changes:
/// <list type="bullet">
/// <item>errors use <see cref="ODataErrors"/> (French + English, no stack trace);</item>
/// <item>the query runs before the response starts. The library normally enumerates the IQueryable
/// while it writes the body, so a database error arrives as HTTP 200 with a truncated JSON; here
/// the (page-size-bounded) page and the $count are read first, and an error becomes a proper 4xx.</item>
/// </list>
/// </summary>
public sealed class ObservatoireQueryAttribute : EnableQueryAttribute
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

    public override void OnActionExecuting(ActionExecutingContext context)
    {
        try { base.OnActionExecuting(context); }
        catch (Exception e) when (ODataErrors.FromException(e) is { } err) { context.Result = ODataErrors.Result(err); }
        context.Result = Rewrite(context.Result);
    }

    public override void OnActionExecuted(ActionExecutedContext context)
    {
        try { base.OnActionExecuted(context); }
        catch (Exception e) when (ODataErrors.FromException(e) is { } err) { context.Result = ODataErrors.Result(err); }
        context.Result = Rewrite(context.Result);
    }

    /// <summary>The library answers a bad query with its own error object (message + stack trace): keep the message only.</summary>
    static IActionResult? Rewrite(IActionResult? r)
    {
        if (r is not ObjectResult { StatusCode: >= 400 } o) return r;
        var message = o.Value switch
        {
            SerializableError se => string.Join(" ", new[] { "Message", "ExceptionMessage" }
                .Select(k => se.TryGetValue(k, out var v) ? v?.ToString() : null).Where(v => !string.IsNullOrEmpty(v)).Distinct()),
            Microsoft.OData.ODataError oe => oe.Message,
            string s => s,
            _ => null,
        };
        if (message is null) return r;
        var err = ODataErrors.FromLibraryMessage(message);
        return ODataErrors.Result(err with { Status = o.StatusCode ?? 400 });
    }

    public override async Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
    {
        if (context.Result is ObjectResult { Value: IQueryable q } result)
        {
            try
            {
                var page = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(q.ElementType))!;
                if (q is IAsyncEnumerable<object> rows)
                    await foreach (var row in rows.WithCancellation(context.HttpContext.RequestAborted)) page.Add(row);
                else
                    foreach (var row in q) page.Add(row);
                result.Value = page.AsQueryable();
                _ = context.HttpContext.ODataFeature().TotalCount; // runs the $count query now
            }
            catch (Exception e) when (ODataErrors.FromException(e) is { } err)
            {
                context.Result = ODataErrors.Result(err);
            }
        }
        await base.OnResultExecutionAsync(context, next);
    }
}
