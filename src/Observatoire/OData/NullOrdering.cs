using System.Linq.Expressions;
using System.Reflection;

namespace Observatoire.OData;

/// <summary>
/// $orderby as OData sorts nulls: first in ascending order, last in descending order (OData 4.01
/// URL conventions, 5.1.1.7: null is smaller than any value). PostgreSQL does the opposite by
/// default, and EF has no NULLS FIRST. Each ordering on a property that can be null gets a key
/// "is not null" before it: ORDER BY population IS NOT NULL DESC, population DESC. Orderings on
/// non-nullable properties (the key, Name, Type…) are left alone, so their indexes still serve.
/// </summary>
public static class NullOrdering
{
    static readonly NullabilityInfoContext Nullability = new();

    public static IQueryable Apply(IQueryable rows)
    {
        var e = new Visitor().Visit(rows.Expression);
        return ReferenceEquals(e, rows.Expression) ? rows : rows.Provider.CreateQuery(e);
    }

    sealed class Visitor : ExpressionVisitor
    {
        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method.DeclaringType != typeof(Queryable)
                || node.Method.Name is not (nameof(Queryable.OrderBy) or nameof(Queryable.OrderByDescending) or nameof(Queryable.ThenBy) or nameof(Queryable.ThenByDescending))
                || node.Arguments.Count != 2
                || StripQuotes(node.Arguments[1]) is not LambdaExpression { Body: var body } key
                || !CanBeNull(body))
                return base.VisitMethodCall(node);

            var source = Visit(node.Arguments[0]);
            var element = key.Parameters[0].Type;
            var notNull = Expression.Lambda(Expression.NotEqual(body, Expression.Constant(null, body.Type)), key.Parameters);
            // "is not null" sorts as the property does: ascending puts false (null) first, descending last.
            var first = Expression.Call(typeof(Queryable), node.Method.Name, [element, typeof(bool)], source, Expression.Quote(notNull));
            var then = node.Method.Name.EndsWith("Descending", StringComparison.Ordinal) ? nameof(Queryable.ThenByDescending) : nameof(Queryable.ThenBy);
            return Expression.Call(typeof(Queryable), then, [element, body.Type], first, Expression.Quote(key));
        }

        static Expression StripQuotes(Expression e) => e is UnaryExpression { NodeType: ExpressionType.Quote } q ? q.Operand : e;

        /// <summary>A chain of members of the entity classes in which some member can be null.</summary>
        static bool CanBeNull(Expression body)
        {
            var nullable = false;
            var e = body;
            while (e is MemberExpression { Member: PropertyInfo p } m)
            {
                if (p.DeclaringType?.Namespace != typeof(Collectivite).Namespace) return false;
                nullable |= Nullable.GetUnderlyingType(p.PropertyType) is not null
                    || !p.PropertyType.IsValueType && Nullability.Create(p).ReadState != NullabilityState.NotNull;
                e = m.Expression;
            }
            return e is ParameterExpression && nullable;
        }
    }
}
