using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.OData;
using Npgsql;

namespace Observatoire.OData;

/// <summary>
/// Every error under /odata in the OData JSON error format, with a message in French and English
/// saying what to change. The library's own error body carries an "innererror" with a stack trace
/// (even in Production): it is never sent; its message only goes into details.
/// </summary>
public static partial class ODataErrors
{
    public sealed record Error(int Status, string Code, string French, string English, string? Cause, string? Target);

    /// <summary>Turns an exception raised by bad input into a 4xx error; null when it is not the client's fault.</summary>
    public static Error? FromException(Exception e)
    {
        switch (e)
        {
            case ODataClientException { Error: var error }:
                return error;
            case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                return FromException(inner);
            case AggregateException { InnerExceptions.Count: 1 } a:
                return FromException(a.InnerExceptions[0]);
            case ODataException or NotSupportedException or ArgumentException or FormatException or OverflowException:
                return FromLibraryMessage(e.Message);
            case Microsoft.AspNetCore.Http.BadHttpRequestException { StatusCode: var status and >= 400 and < 500 }:
                return ForStatus(status);
            case PostgresException { SqlState: var s } pg when s.StartsWith("22", StringComparison.Ordinal):
                // data exception: division by zero, invalid cast, value out of range... (MessageText: without the SQLSTATE)
                return new(400, "InvalidValue",
                    "La requête a produit une erreur de calcul dans la base (division par zéro, valeur hors limites, conversion impossible) : corrigez l'expression.",
                    "The query raised a data error in the database (division by zero, out-of-range value, invalid conversion): fix the expression.",
                    pg.MessageText, null);
            case PostgresException { SqlState: "57014" }:
                return Timeout(null);
            case InvalidOperationException when e.Message.Contains("could not be translated", StringComparison.Ordinal):
                return new(400, "NotTranslatable",
                    "Cette combinaison d'options ne se traduit pas en SQL et n'est pas évaluée en mémoire : simplifiez $filter, $orderby ou $apply.",
                    "This combination of options cannot be translated to SQL and is never evaluated in memory: simplify $filter, $orderby or $apply.",
                    Cause(e.Message), null);
            case InvalidOperationException when e.Message.Contains("evaluate a LINQ query parameter expression", StringComparison.Ordinal):
                // e.g. $filter=null: the library builds a predicate EF cannot evaluate (issue #14: was a 500).
                return new(400, "BadRequest",
                    "L'expression ne peut pas être évaluée : $filter attend une condition (par exemple Population gt 10000), pas une valeur seule.",
                    "The expression cannot be evaluated: $filter expects a condition (e.g. Population gt 10000), not a bare value.", Cause(e.Message), "$filter");
            case InvalidOperationException or DbUpdateException when e.InnerException is { } inner:
                return FromException(inner);
            case var x when Hardening.ServiceProblems.Classify(x) is { } trouble: // issue #14: outage or saturation → 503
                return new(503, "ServiceUnavailable", Hardening.ServiceProblems.Text(trouble).Detail,
                    "The database is unavailable or saturated: retry after the Retry-After delay.", null, null);
            default:
                return null;
        }
    }

    /// <summary>An error of the query options, explained from the library's (English) message.</summary>
    public static Error FromLibraryMessage(string message)
    {
        var m = message;
        (string fr, string en, string target) hint =
            Has(m, "limit of") && Has(m, "Top") ? ($"$top dépasse la limite de {ODataSetup.MaxTop} : demandez moins de lignes ou suivez @odata.nextLink.", $"$top exceeds the limit of {ODataSetup.MaxTop}: ask for fewer rows or follow @odata.nextLink.", "$top")
            : Has(m, "limit of") && Has(m, "Skip") ? ($"$skip dépasse la limite de {ODataSetup.MaxSkip} : filtrez plutôt que de sauter autant de lignes.", $"$skip exceeds the limit of {ODataSetup.MaxSkip}: filter rather than skip so many rows.", "$skip")
            : Has(m, "maximum depth") || Has(m, "MaxExpansionDepth") || Has(m, "levels") && Has(m, "max") ? ($"$expand dépasse la profondeur maximale de {ODataSetup.MaxExpansionDepth} (y compris $levels) : faites deux requêtes.", $"$expand exceeds the maximum depth of {ODataSetup.MaxExpansionDepth} (including $levels): make two requests.", "$expand")
            : Has(m, "node count") || Has(m, "MaxNodeCount") ? ($"La requête est trop complexe (plus de {ODataSetup.MaxNodeCount} nœuds) : simplifiez $filter, ou utilisez 'in' plutôt qu'une longue suite de 'or'.", $"The query is too complex (more than {ODataSetup.MaxNodeCount} nodes): simplify $filter, or use 'in' instead of a long chain of 'or'.", "$filter")
            : Has(m, "any/all") || Has(m, "MaxAnyAllExpressionDepth") ? ("Trop d'any/all imbriqués dans $filter : au plus " + ODataSetup.MaxAnyAllDepth + ".", "Too many nested any/all in $filter: at most " + ODataSetup.MaxAnyAllDepth + ".", "$filter")
            : Has(m, "OrderBy") && Has(m, "limit") ? ("Trop de critères dans $orderby : au plus " + ODataSetup.MaxOrderByNodeCount + ".", "Too many $orderby clauses: at most " + ODataSetup.MaxOrderByNodeCount + ".", "$orderby")
            : Has(m, "$select") && (Has(m, "navigation") || Has(m, "path")) || Has(m, "Found a path with multiple navigation") || Has(m, "Trying to follow type") ? ("$select ne suit pas les navigations : sélectionnez les propriétés de la navigation avec $expand=Epci($select=Name).", "$select does not follow navigations: select a navigation's properties with $expand=Epci($select=Name).", "$select")
            : Has(m, "Could not find a property") || Has(m, "property named") ? ("Propriété inconnue : vérifiez le nom (sensible à la casse) dans /odata/$metadata (par exemple Population, DepartementCode, IsObliged).", "Unknown property: check the name (case-sensitive) in /odata/$metadata (e.g. Population, DepartementCode, IsObliged).", "")
            : Has(m, "not recognized as a valid") || Has(m, "Unrecognized") && Has(m, "literal") || Has(m, "Bad Request - Error in query syntax") || Has(m, "cannot be converted") || Has(m, "is not a valid") ? ("Valeur invalide : écrivez une date AAAA-MM-JJ sans apostrophes, une chaîne entre apostrophes ('COM-35238'), un nombre sans apostrophes.", "Invalid value: write a date as YYYY-MM-DD without quotes, a string in single quotes ('COM-35238'), a number without quotes.", "")
            : Has(m, "Syntax error") || Has(m, "syntax") || Has(m, "Expected") || Has(m, "unterminated") || Has(m, "Unrecognized") ? ("Erreur de syntaxe dans la requête : voir la position indiquée dans le détail.", "Syntax error in the query: see the position given in the details.", "")
            : Has(m, "is not supported") || Has(m, "not allowed") || Has(m, "not supported") ? ("Option de requête non prise en charge ici : voir la liste des options dans docs/odata.md.", "Query option not supported here: see the supported options in docs/odata.md.", "")
            : Has(m, "incompatible") || Has(m, "no binary operator") || Has(m, "is not compatible") || Has(m, "Cannot apply") || Has(m, "operator") && Has(m, "type") ? ("Types incompatibles dans l'expression : comparez un nombre à un nombre, une chaîne entre apostrophes à une chaîne, une date au format AAAA-MM-JJ.", "Incompatible types in the expression: compare a number with a number, a quoted string with a string, a date as YYYY-MM-DD.", "")
            : ("Requête OData invalide : corrigez-la d'après le détail ci-dessous et /odata/$metadata.", "Invalid OData query: fix it using the details below and /odata/$metadata.", "");
        return new(400, "BadRequest", hint.fr, hint.en, Cause(m), hint.target is "" ? null : hint.target);
    }

    /// <summary>The request ran past the per-request budget (or a statement past its timeout).</summary>
    public static Error Timeout(ODataLimits? limits) => new(503, "QueryTimeout",
        $"La requête a dépassé le temps autorisé{Seconds(limits)} et a été interrompue : ajoutez un $filter, réduisez $expand (ou $top dans $expand) ou $apply, ou découpez-la.",
        $"The request exceeded its time budget{Seconds(limits)} and was stopped: add a $filter, reduce $expand (or $top inside $expand) or $apply, or split it.", null, null);

    static string Seconds(ODataLimits? l) => l is null ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $" ({l.RequestBudget.TotalSeconds:0.#} s)");

    /// <summary>A URL the OData grammar accepts but this read-only service does not implement.</summary>
    public static Error NotImplemented(string path) => new(501, "NotImplemented",
        "Fonction OData non prise en charge par ce service (lecture seule : ni $batch, ni $ref, ni $crossjoin, ni $all, ni $entity) : interrogez les ensembles, leurs clés, propriétés et navigations.",
        "OData feature not implemented by this read-only service (no $batch, $ref, $crossjoin, $all, $entity): query the entity sets, their keys, properties and navigations.", Cause(path), null);

    /// <summary>
    /// The library's message as a detail, without what only makes sense inside the service: CLR and
    /// LINQ type names, the library's setting names and advice to change them, SQLSTATE codes.
    /// </summary>
    public static string? Cause(string message)
    {
        var first = FirstLine(message);
        var kept = Sentences().Split(first).Where(x => x.Length > 0 && !Internal().IsMatch(x)).ToArray();
        var text = string.Join(" ", kept).Trim();
        return text.Length == 0 ? null : text;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial System.Text.RegularExpressions.Regex Sentences();

    [System.Text.RegularExpressions.GeneratedRegex(@"System\.|Microsoft\.|Npgsql|Expression|EnableQuery|ODataValidationSettings|ODataQuerySettings|\bMax[A-Z][A-Za-z]+|PageSize|SQLSTATE|\b(22|23|42|53|54|57)[0-9A-Z]{3}\b|Linq|IQueryable|\bat [A-Z][A-Za-z]+\.", System.Text.RegularExpressions.RegexOptions.None)]
    private static partial System.Text.RegularExpressions.Regex Internal();

    static bool Has(string m, string s) => m.Contains(s, StringComparison.OrdinalIgnoreCase);

    static string FirstLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    public static Error ForStatus(int status) => status switch
    {
        404 => new(404, "NotFound", "Introuvable : aucune entité n'a cette clé, ou ce chemin n'existe pas. Les ensembles sont Collectivites, Observations, Platforms, Atds, AssociatedActors, Milestones, CollectiviteStatuses, CollectiviteChanges (voir /odata/$metadata) ; les clés s'écrivent Collectivites('COM-35238').",
            "Not found: no entity has this key, or this path does not exist. The entity sets are Collectivites, Observations, Platforms, Atds, AssociatedActors, Milestones, CollectiviteStatuses, CollectiviteChanges (see /odata/$metadata); keys are written Collectivites('COM-35238').", null, null),
        405 => new(405, "MethodNotAllowed", "Ce service est en lecture seule : seules les méthodes GET et HEAD sont acceptées.", "This service is read-only: only GET and HEAD are accepted.", null, null),
        406 => new(406, "NotAcceptable", "Format de réponse non disponible : demandez application/json.", "Response format not available: ask for application/json.", null, null),
        414 => new(414, "UriTooLong", "URL trop longue : raccourcissez la requête (Power BI limite les URL à 2 048 caractères).", "URI too long: shorten the query.", null, null),
        >= 500 => new(status, "ServerError", "Erreur interne du service : réessayez plus tard ; si elle persiste, signalez l'URL.", "Internal service error: retry later; if it persists, report the URL.", null, null),
        _ => new(status, "BadRequest", "Requête invalide.", "Invalid request.", null, null),
    };

    public static byte[] Body(Error e)
    {
        var details = new List<object> { new { code = "en", message = e.English, target = e.Target } };
        if (e.Cause is not null) details.Add(new { code = "cause", message = e.Cause, target = e.Target });
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            error = new { code = e.Code, message = $"{e.French} — {e.English}", target = e.Target, details },
        });
    }

    public const string ContentType = "application/json; odata.metadata=minimal";

    public static IActionResult Result(Error e) => new ErrorResult(e);

    /// <summary>The error as an action result; a 503 (database down or saturated) carries Retry-After (issue #14).</summary>
    sealed class ErrorResult(Error e) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            var res = context.HttpContext.Response;
            res.StatusCode = e.Status;
            res.ContentType = ContentType;
            if (e.Status == 503) res.Headers.RetryAfter = Hardening.ServiceProblems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return res.Body.WriteAsync(Body(e)).AsTask();
        }
    }

    public static async Task WriteAsync(HttpContext ctx, Error e)
    {
        ctx.Response.Clear();
        ctx.Response.StatusCode = e.Status;
        ctx.Response.ContentType = "application/json; odata.metadata=minimal";
        ctx.Response.Headers["OData-Version"] = "4.0";
        if (e.Status == 503) ctx.Response.Headers.RetryAfter = Hardening.ServiceProblems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ctx.Response.Body.WriteAsync(Body(e));
    }
}

/// <summary>A request this service refuses, with the error to answer (thrown where a result cannot be returned).</summary>
public sealed class ODataClientException(ODataErrors.Error error) : Exception(error.English)
{
    public ODataErrors.Error Error => error;
}
