using System.Collections;
using System.Linq.Expressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Extensions;
using Microsoft.AspNetCore.OData.Results;
using Microsoft.AspNetCore.OData.Routing.Controllers;
using Microsoft.AspNetCore.OData.Routing.Conventions;
using Microsoft.AspNetCore.OData.Routing.Template;
using Microsoft.EntityFrameworkCore;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;
using Observatoire.Api;

namespace Observatoire.OData;

/// <summary>
/// The paths below one entity that odata.metadata=full advertises and Power Query follows when a
/// navigation cell is clicked: Collectivites('COM-35238')/Epci, …/Members (and /$count),
/// …/Name, …/Name/$value, Atds('x')/PerimeterCodes/$count. One action serves them all, routed here
/// for every entity set, property and navigation of the model, so a new property is served without code.
/// </summary>
sealed class EntityPathsConvention : IODataControllerActionConvention
{
    public int Order => 1000;

    public bool AppliesToController(ODataControllerActionContext context) => context.Controller.ControllerType == typeof(EntityPathsController);

    public bool AppliesToAction(ODataControllerActionContext context)
    {
        if (context.Action.ActionName != nameof(EntityPathsController.GetPath)) return false;
        foreach (var set in context.Model.EntityContainer.EntitySets())
        {
            var type = set.EntityType;
            var keyName = type.Key().Single().Name;
            ODataSegmentTemplate[] Below(params ODataSegmentTemplate[] rest) =>
                [new EntitySetSegmentTemplate(set), new KeySegmentTemplate(new Dictionary<string, string> { [keyName] = "{key}" }, type, set), .. rest];
            void Add(params ODataSegmentTemplate[] segments) =>
                context.Action.AddSelector("Get", context.Prefix, context.Model, new ODataPathTemplate(segments), context.Options?.RouteOptions);

            foreach (var p in type.StructuralProperties())
            {
                Add(Below(new PropertySegmentTemplate(p)));
                if (p.Type.IsCollection()) Add(Below(new PropertySegmentTemplate(p), CountSegmentTemplate.Instance));
                else Add(Below(new PropertySegmentTemplate(p), new ValueSegmentTemplate(p.Type.Definition)));
            }
            foreach (var n in type.NavigationProperties())
            {
                if (set.FindNavigationTarget(n) is not IEdmEntitySet target) continue;
                Add(Below(new NavigationSegmentTemplate(n, target)));
                if (n.Type.IsCollection()) Add(Below(new NavigationSegmentTemplate(n, target), CountSegmentTemplate.Instance));
            }
        }
        return true;
    }
}

/// <summary>Set(key)/Property[/$value|/$count] and Set(key)/Navigation[/$count], each as one SQL statement.</summary>
public sealed class EntityPathsController(ODataDb db) : ODataController
{
    /// <summary>Each set, given the key looked up (the comparison of CollectiviteChanges is computed for that collectivité only).</summary>
    static readonly Dictionary<string, Func<ODataDb, object, IQueryable>> Sets = new()
    {
        ["Collectivites"] = (d, _) => d.Collectivites,
        ["Observations"] = (d, _) => d.Observations,
        ["Platforms"] = (d, _) => d.Platforms,
        ["Atds"] = (d, _) => d.Atds,
        ["AssociatedActors"] = (d, _) => d.AssociatedActors,
        ["Milestones"] = (d, _) => d.Milestones,
        ["CollectiviteStatuses"] = (d, _) => d.StatusOn(QueryParameters.Today),
        ["CollectiviteChanges"] = (d, key) => d.LatestChanges((string)key),
        ["AuditEntries"] = (d, _) => d.AuditEntries,   // administrators only: ODataGuard refuses the others first
    };

    [ObservatoireQuery]
    public async Task<IActionResult> GetPath(CancellationToken ct)
    {
        var path = Request.ODataFeature().Path;
        var set = ((EntitySetSegment)path[0]).EntitySet;
        var key = (KeySegment)path[1];
        var (keyName, keyValue) = key.Keys.Single();
        var source = Sets[set.Name](db, keyValue);
        var x = Expression.Parameter(source.ElementType, "x");
        var keyMember = Expression.Property(x, keyName);
        var entity = Where(source, Expression.Lambda(Expression.Equal(keyMember, Expression.Constant(Convert(keyValue, keyMember.Type), keyMember.Type)), x));

        switch (path[2])
        {
            case NavigationPropertySegment nav when nav.NavigationProperty.Type.IsCollection():
                // SelectMany: the library then applies $filter, $orderby, paging, /$count to the related rows.
                return Ok(SelectMany(entity, x, nav.NavigationProperty.Name));
            case NavigationPropertySegment nav:
                var related = await FirstAsync(entity, x, nav.NavigationProperty.Name, ct);
                if (!related.Found) return NotFound();
                if (related.Value is null) return NoContent(); // no such navigation (a commune without EPCI)
                // The related entity again as a query, for $select and $expand.
                var one = SelectNotNull(entity, x, nav.NavigationProperty.Name);
                return Ok((SingleResult)Activator.CreateInstance(typeof(SingleResult<>).MakeGenericType(one.ElementType), one)!);
            case PropertySegment prop:
                var value = await FirstAsync(entity, x, prop.Property.Name, ct);
                if (!value.Found) return NotFound();
                if (value.Value is null) return NoContent();
                if (path.Count == 4 && path[3] is CountSegment)
                    return Content(((ICollection)value.Value).Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "text/plain");
                return Ok(value.Value);
            default:
                return NotFound();
        }
    }

    static object Convert(object value, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (value is Date d && t == typeof(DateOnly)) return new DateOnly(d.Year, d.Month, d.Day);
        return t.IsInstanceOfType(value) ? value : System.Convert.ChangeType(value, t, System.Globalization.CultureInfo.InvariantCulture);
    }

    static IQueryable Where(IQueryable source, LambdaExpression predicate) => source.Provider.CreateQuery(
        Expression.Call(typeof(Queryable), nameof(Queryable.Where), [source.ElementType], source.Expression, Expression.Quote(predicate)));

    static IQueryable Select(IQueryable source, ParameterExpression x, string member)
    {
        var body = Expression.Property(x, member);
        return source.Provider.CreateQuery(Expression.Call(typeof(Queryable), nameof(Queryable.Select), [source.ElementType, body.Type],
            source.Expression, Expression.Quote(Expression.Lambda(body, x))));
    }

    static IQueryable SelectNotNull(IQueryable source, ParameterExpression x, string member)
    {
        var selected = Select(source, x, member);
        var y = Expression.Parameter(selected.ElementType, "y");
        return Where(selected, Expression.Lambda(Expression.NotEqual(y, Expression.Constant(null, y.Type)), y));
    }

    static IQueryable SelectMany(IQueryable source, ParameterExpression x, string member)
    {
        var body = Expression.Property(x, member);
        var element = body.Type.GetGenericArguments()[0];
        var lambda = Expression.Lambda(typeof(Func<,>).MakeGenericType(source.ElementType, typeof(IEnumerable<>).MakeGenericType(element)), body, x);
        return source.Provider.CreateQuery(Expression.Call(typeof(Queryable), nameof(Queryable.SelectMany), [source.ElementType, element],
            source.Expression, Expression.Quote(lambda)));
    }

    /// <summary>x.member of the entity, read asynchronously; Found is false when the entity does not exist.</summary>
    static async Task<(bool Found, object? Value)> FirstAsync(IQueryable entity, ParameterExpression x, string member, CancellationToken ct)
    {
        var select = Expression.Call(typeof(Queryable), nameof(Queryable.Select), [entity.ElementType, typeof(object)], entity.Expression,
            Expression.Quote(Expression.Lambda(Expression.Convert(Expression.Property(x, member), typeof(object)), x)));
        // At most one row: the entity is filtered by its key.
        var rows = entity.Provider.CreateQuery<object?>(select);
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(ct))
            return (true, row);
        return (false, null);
    }
}
