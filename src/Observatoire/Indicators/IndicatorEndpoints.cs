using Observatoire.Api;
using Observatoire.Reference;

namespace Observatoire.Indicators;

/// <summary>
/// JSON endpoints over the indicator layer: <c>/api/progress</c>, <c>/api/indicators</c> (the ATD ones
/// are in Atd/AtdEndpoints.cs). Bad parameters → 400 problem details in French.
/// </summary>
public static class IndicatorEndpoints
{
    public static IServiceCollection AddIndicators(this IServiceCollection services) => services
        .AddSingleton<IndicatorQueries>().AddSingleton<ProgressQueries>().AddSingleton<ChangeQueries>();

    public static IEndpointRouteBuilder MapIndicators(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");

        api.MapGet("/progress", async (HttpContext http, ProgressQueries q, CancellationToken ct) =>
        {
            // asOf, the documented name; date accepted too, like the other endpoints.
            var p = new QueryParameters(http.Request.Query);
            var asOf = p.Date(http.Request.Query.ContainsKey("asOf") ? "asOf" : "date");
            if (!p.IsValid) return p.Problem();
            return Results.Json(await q.ProgressAsync(asOf, ct));
        });

        api.MapGet("/indicators", async (HttpContext http, IndicatorQueries q, CancellationToken ct) =>
        {
            var p = new QueryParameters(http.Request.Query);
            var f = Filter(p);
            var by = p.OneOf("by", IndicatorQueries.Dimensions);
            if (!p.IsValid) return p.Problem();
            var lastObservation = await q.LastObservationAsync(ct);
            if (by is null)
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
        return app;
    }

    /// <summary>date, type (comma list), band, region, departement, atd, obliged (true/false).</summary>
    internal static IndicatorFilter Filter(QueryParameters p) => new(
        p.Date(), p.List("type", IndicatorFilter.KnownTypes), p.OneOf("band", PopulationBands.All),
        p.AreaCode("region"), p.AreaCode("departement"), p.AtdId(), p.Bool("obliged") ?? false);
}
