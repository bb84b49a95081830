using System.Globalization;
using System.Linq.Expressions;
using System.Text;
using Microsoft.AspNetCore.OData.Query.Expressions;
using Microsoft.OData;
using Microsoft.OData.UriParser;

namespace Observatoire.OData;

/// <summary>
/// $search on Collectivites: every term must appear in the name, ignoring case and accents
/// (the column search_name = search_key(name) of migration 001). AND, OR, NOT and quoted phrases
/// follow the OData grammar. Other entity sets answer 400.
/// </summary>
public sealed class CollectiviteSearchBinder : ISearchBinder
{
    public Expression BindSearch(SearchClause searchClause, QueryBinderContext context)
    {
        if (context.ElementClrType != typeof(Collectivite))
            throw new ODataException("$search n'est disponible que sur Collectivites ; utilisez $filter=contains(Name,'…') ailleurs. — $search is only available on Collectivites.");
        var c = Expression.Parameter(typeof(Collectivite), "c");
        return Expression.Lambda<Func<Collectivite, bool>>(Bind(searchClause.Expression, c), c);
    }

    static Expression Bind(SingleValueNode node, ParameterExpression c) => node switch
    {
        SearchTermNode t => Contains(c, Key(t.Text)),
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } b => Expression.AndAlso(Bind(b.Left, c), Bind(b.Right, c)),
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.Or } b => Expression.OrElse(Bind(b.Left, c), Bind(b.Right, c)),
        UnaryOperatorNode { OperatorKind: UnaryOperatorKind.Not } u => Expression.Not(Bind(u.Operand, c)),
        _ => throw new ODataException("Expression $search non prise en charge. — Unsupported $search expression."),
    };

    static Expression Contains(ParameterExpression c, string key) => Expression.Call(
        Expression.Property(c, nameof(Collectivite.SearchName)),
        typeof(string).GetMethod(nameof(string.Contains), [typeof(string)])!,
        Expression.Constant(key));

    /// <summary>The C# twin of SQL search_key(): lower case, no accents, runs of other characters → one space.</summary>
    public static string Key(string text)
    {
        var sb = new StringBuilder();
        foreach (var ch in text.Normalize(NormalizationForm.FormD).ToLowerInvariant())
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            var x = ch switch { 'œ' => "oe", 'æ' => "ae", 'ß' => "ss", _ => ch.ToString() };
            foreach (var y in x)
                if (y is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(y);
                else if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
        }
        return sb.ToString().Trim();
    }
}
