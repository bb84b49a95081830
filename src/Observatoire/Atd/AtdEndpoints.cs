using Observatoire.Api;

namespace Observatoire.Atds;

/// <summary>
/// <c>/api/atd</c>, <c>/api/atd/{id}</c>, <c>/api/atd/{id}/todo</c>: the ATD with their figures, and an
/// ATD's to-do list (obliged, not open, largest first). Bad parameters → 400, an unknown ATD → 404,
/// as French problem details.
/// </summary>
public static class AtdEndpoints
{
    public static IServiceCollection AddAtd(this IServiceCollection services) => services.AddSingleton<AtdQueries>();

    public static IEndpointRouteBuilder MapAtd(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/atd");

        api.MapGet("", async (HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            var p = new QueryParameters(http.Request.Query);
            var d = p.Date();
            if (!p.IsValid) return p.Problem();
            return Results.Json(await q.ListAsync(d, ct: ct));
        });

        api.MapGet("/{id}", async (string id, HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            var p = new QueryParameters(http.Request.Query);
            var d = p.Date();
            if (!p.IsValid) return p.Problem();
            var list = await q.ListAsync(d, id, ct);
            return list.Count == 1 ? Results.Json(list[0]) : NotFound(id);
        });

        api.MapGet("/{id}/todo", async (string id, HttpContext http, AtdQueries q, CancellationToken ct) =>
        {
            var p = new QueryParameters(http.Request.Query);
            var d = p.Date();
            var limit = p.Int("limit", 1, AtdQueries.MaxTodo) ?? 500;
            if (!p.IsValid) return p.Problem();
            var todo = await q.TodoAsync(id, d, limit, ct);
            return todo is null ? NotFound(id) : Results.Json(new { atd = id, date = d, count = todo.Count, items = todo });
        });
        return app;
    }

    static IResult NotFound(string id) => Problems.Of(404, "ATD introuvable",
        $"Aucun ATD d'identifiant « {id} ». La liste est sur /api/atd.");
}
