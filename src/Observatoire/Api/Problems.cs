namespace Observatoire.Api;

/// <summary>
/// RFC 7807 problem details in French: the one helper the endpoints answer errors with, and the
/// framework's own problems (unknown route, wrong method, crash) translated the same way; never a
/// stack trace. (Under /odata, errors take the OData format instead: OData/ODataErrors.cs.)
/// </summary>
public static class Problems
{
    /// <summary>An error answer of the endpoints: a short French title, and what to do in the detail.</summary>
    public static IResult Of(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    /// <summary>A malformed query-string parameter (see <see cref="QueryParameters"/>).</summary>
    public static IResult BadParameter(string detail) => Of(400, "Paramètre invalide", detail);

    static readonly Dictionary<int, (string Title, string Detail)> Texts = new()
    {
        [400] = ("Requête invalide", "La requête est mal formée : vérifiez l'adresse et ses paramètres."),
        [404] = ("Ressource introuvable", "Aucune ressource à cette adresse. Les points d'accès sont listés dans le README."),
        [405] = ("Méthode non permise", "Cette adresse ne répond qu'en lecture (GET)."),
        [406] = ("Format non disponible", "Le format demandé (en-tête Accept) n'est pas servi ici."),
        [415] = ("Type de contenu non pris en charge", "Le type de contenu envoyé n'est pas pris en charge."),
        [500] = ("Erreur interne", "Une erreur inattendue s'est produite ; elle a été journalisée. Réessayez plus tard."),
        [503] = ("Service indisponible", "La base de données ne répond pas ; réessayez dans un instant."),
    };

    public static IServiceCollection AddFrenchProblemDetails(this IServiceCollection services) =>
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var status = ctx.ProblemDetails.Status ?? ctx.HttpContext.Response.StatusCode;
            // Only the framework's generic English texts are replaced; an endpoint's own French title stays.
            if (Texts.TryGetValue(status, out var t) && (ctx.ProblemDetails.Title is null || ctx.Exception is not null
                    || ctx.ProblemDetails.Title == Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)
                    || ctx.ProblemDetails.Title.StartsWith("An error", StringComparison.Ordinal)))
            {
                ctx.ProblemDetails.Title = t.Title;
                ctx.ProblemDetails.Detail ??= t.Detail;
                if (ctx.Exception is not null) ctx.ProblemDetails.Detail = t.Detail;
            }
            ctx.ProblemDetails.Extensions.Remove("exception");
        });
}
