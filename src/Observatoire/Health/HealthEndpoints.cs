using Npgsql;

namespace Observatoire.Health;

public static class HealthEndpoints
{
    /// <summary>GET /health: 200 when the database answers, 503 (same shape) when it does not.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", async (NpgsqlDataSource db, HttpContext http, CancellationToken ct) =>
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
                // Issue #14: say whether the database is down or only saturated (no free connection in time).
                var trouble = Hardening.ServiceProblems.Classify(e) ?? Hardening.DatabaseTrouble.Unreachable;
                http.Response.Headers.RetryAfter = Hardening.ServiceProblems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Json(new
                {
                    status = "unavailable",
                    database = trouble == Hardening.DatabaseTrouble.Saturated ? "saturated" : "unreachable",
                    vintage = (string?)null,
                    lastObservation = (DateOnly?)null,
                    detail = Hardening.ServiceProblems.Text(trouble).Detail,
                }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).WithName("Health");
        return app;
    }
}
