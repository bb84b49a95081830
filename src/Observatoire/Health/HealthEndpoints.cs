using Npgsql;

namespace Observatoire.Health;

public static class HealthEndpoints
{
    /// <summary>GET /health: 200 when the database answers, 503 (same shape) when it does not.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", async (NpgsqlDataSource db, CancellationToken ct) =>
        {
            try
            {
                await using var cmd = db.CreateCommand("""
                    select (select vintage from data_release where kind = 'reference' order by id desc limit 1),
                           (select max(id) from data_release),
                           (select count(*) from collectivite),
                           last_observation()
                    """);
                cmd.CommandTimeout = 5;
                await using var rd = await cmd.ExecuteReaderAsync(ct);
                await rd.ReadAsync(ct);
                return Results.Json(new
                {
                    status = "ok",
                    database = "ok",
                    vintage = rd.IsDBNull(0) ? null : rd.GetString(0),
                    release = rd.IsDBNull(1) ? (int?)null : rd.GetInt32(1),
                    collectivites = rd.GetInt64(2),
                    lastObservation = rd.IsDBNull(3) ? (DateOnly?)null : rd.GetFieldValue<DateOnly>(3),
                });
            }
            catch (Exception e) when (e is NpgsqlException or PostgresException or TimeoutException or InvalidOperationException)
            {
                return Results.Json(new
                {
                    status = "unavailable",
                    database = "unreachable",
                    vintage = (string?)null,
                    lastObservation = (DateOnly?)null,
                    detail = "La base de données ne répond pas.",
                }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).WithName("Health");
        return app;
    }
}
