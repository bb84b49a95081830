using System.Globalization;
using Observatoire.Atds;

namespace Observatoire.Indicators;

/// <summary>
/// JSON endpoints over the indicator layer: <c>/api/progress</c>, <c>/api/indicators</c>, <c>/api/atd</c>,
/// <c>/api/atd/{id}</c>, <c>/api/atd/{id}/todo</c>. Bad parameters → 400 problem details in French.
/// </summary>
public static class IndicatorEndpoints
{
    public static IServiceCollection AddIndicators(this IServiceCollection services) => services
        .AddSingleton<IndicatorQueries>().AddSingleton<ProgressQueries>().AddSingleton<AtdQueries>();

    public static IEndpointRouteBuilder MapIndicators(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");

        api.MapGet("/progress", async (HttpContext http, ProgressQueries q, CancellationToken ct) =>
        {
            // asOf as in api.md; date accepted too, like the other endpoints.
            if (!TryDate(http, http.Request.Query.ContainsKey("asOf") ? "asOf" : "date", out var asOf, out var bad)) return bad!;
            return Results.Json(await q.ProgressAsync(asOf, ct));
        });

        api.MapGet("/indicators", async (HttpContext http, IndicatorQueries q, CancellationToken ct) =>
        {
            if (!TryFilter(http, out var f, out var bad)) return bad!;
            var by = http.Request.Query["by"].ToString();
            if (by.Length > 0 && !IndicatorQueries.Dimensions.Contains(by))
                return Problem($"Paramètre by « {by} » inconnu : valeurs possibles {string.Join(", ", IndicatorQueries.Dimensions)}.");
            var lastObservation = await q.LastObservationAsync(ct);
            if (by.Length == 0)
            {
                var set = await q.ComputeAsync(f, ct);
                return Results.Json(new
                {
                    set.Date, set.Observed, lastObservation, set.Collectivites, set.Open, set.Obliged, set.ObligedOpen, set.ObligedOpenRate,
                    set.Population, set.PopulationInOpenCommunes, set.PopulationInOpenCommuneOrEpci,
                    set.PopulationInOpenDepartement, set.PopulationInOpenRegion, obligationNote = IndicatorQueries.ObligationNote,
                });
            }
            var rows = await q.BreakdownAsync(f, by, ct);
            return Results.Json(new
            {
                by, date = f.Date, observed = rows.Count > 0 ? rows[0].Values.Observed : await q.ObservedAsync(f.Date, ct), lastObservation,
                obligationNote = IndicatorQueries.ObligationNote, rows,
            });
        });

        api.MapGet("/atd", async (HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            if (!TryDate(http, "date", out var d, out var bad)) return bad!;
            return Results.Json(await q.ListAsync(d, ct: ct));
        });

        api.MapGet("/atd/{id}", async (string id, HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            if (!TryDate(http, "date", out var d, out var bad)) return bad!;
            var list = await q.ListAsync(d, id, ct);
            return list.Count == 1 ? Results.Json(list[0]) : NotFound(id);
        });

        api.MapGet("/atd/{id}/todo", async (string id, HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            if (!TryDate(http, "date", out var d, out var bad)) return bad!;
            var limit = 500;
            if (http.Request.Query["limit"].ToString() is { Length: > 0 } l
                && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > AtdQueries.MaxTodo))
                return Problem($"Paramètre limit « {l} » invalide : entier de 1 à {AtdQueries.MaxTodo}.");
            var todo = await q.TodoAsync(id, d, limit, ct);
            return todo is null ? NotFound(id) : Results.Json(new { atd = id, date = d, count = todo.Count, items = todo });
        });
        return app;
    }

    static IResult NotFound(string id) => Results.Problem(statusCode: 404, title: "ATD introuvable",
        detail: $"Aucun ATD d'identifiant « {id} ». La liste est sur /api/atd.");

    static IResult Problem(string detail) => Results.Problem(statusCode: 400, title: "Paramètre invalide", detail: detail);

    static bool TryDate(HttpContext http, string name, out DateOnly? date, out IResult? bad)
    {
        date = null; bad = null;
        var v = http.Request.Query[name].ToString();
        if (v.Length == 0) return true;
        if (DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) && d.Year is >= 2000 and <= 2100)
        {
            date = d;
            return true;
        }
        bad = Problem($"Paramètre {name} « {v} » invalide : date AAAA-MM-JJ attendue (entre 2000 et 2100), ex. 2022-10-19.");
        return false;
    }

    /// <summary>date, type (comma list), band, region, departement, atd, obliged (true/false).</summary>
    internal static bool TryFilter(HttpContext http, out IndicatorFilter filter, out IResult? bad)
    {
        filter = new IndicatorFilter();
        if (!TryDate(http, "date", out var d, out bad)) return false;
        var q = http.Request.Query;
        string? Opt(string n) => q[n].ToString() is { Length: > 0 } s ? s.Trim() : null;
        var obliged = false;
        if (Opt("obliged") is { } o && !bool.TryParse(o, out obliged))
        {
            bad = Problem($"Paramètre obliged « {o} » invalide : true ou false.");
            return false;
        }
        filter = new IndicatorFilter(d, Opt("type")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Opt("band"), Opt("region"), Opt("departement"), Opt("atd"), obliged);
        if (filter.Problem() is { } p) { bad = Problem(p); return false; }
        return true;
    }
}
