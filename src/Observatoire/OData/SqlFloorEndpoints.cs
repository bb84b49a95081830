using System.Buffers;
using System.Text.Json;
using Npgsql;

namespace Observatoire.OData;

/// <summary>
/// Hand-written SQL for the two benchmarked OData queries, over the same connection pool, so that
/// scripts/bench-odata.sh can measure what the OData layer costs on top of the floor. Mapped only
/// when Benchmark:SqlFloor is true (never in the default configuration).
/// </summary>
public static class SqlFloorEndpoints
{
    public static void MapSqlFloor(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/bench/floor");
        // = /odata/Collectivites?$filter=Type eq 'COM' and RegionCode eq '53'&$top=100&$count=true, the values
        // written in: prepared automatically, PostgreSQL plans it once per connection.
        g.MapGet("/page", (NpgsqlDataSource db, HttpContext ctx, CancellationToken ct) => PageAsync(db, ctx, false, ct));
        // The same statements with the values as parameters, as code serving any filter would send them:
        // PostgreSQL plans them for their values at each execution, as it does EF's (docs/benchmarks.md).
        g.MapGet("/page-parameters", (NpgsqlDataSource db, HttpContext ctx, CancellationToken ct) => PageAsync(db, ctx, true, ct));
        // = /odata/Collectivites?$apply=filter(Type eq 'COM')/groupby((RegionCode,PopulationBand),aggregate(...))
        g.MapGet("/groupby", async (NpgsqlDataSource db, HttpContext ctx, CancellationToken ct) =>
        {
            await using var cmd = db.CreateCommand("""
                select region_code, population_band, count(*), sum(obliged_flag), sum(obliged_open_flag)
                  from odata_collectivite where type = 'COM' group by 1, 2
                """);
            await using var rd = await cmd.ExecuteReaderAsync(ct);
            ctx.Response.ContentType = "application/json";
            var buffer = new ArrayBufferWriter<byte>();
            await using var w = new Utf8JsonWriter(buffer);
            w.WriteStartObject();
            w.WriteStartArray("value");
            while (await rd.ReadAsync(ct))
            {
                w.WriteStartObject();
                w.WriteString("RegionCode", rd.IsDBNull(0) ? null : rd.GetString(0));
                w.WriteString("PopulationBand", rd.IsDBNull(1) ? null : rd.GetString(1));
                w.WriteNumber("N", rd.GetInt64(2));
                w.WriteNumber("Obliged", rd.GetDecimal(3));
                w.WriteNumber("ObligedOpen", rd.GetDecimal(4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            await w.FlushAsync(ct);
            await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ct);
        });
    }

    static (string Count, string Page) PageSql(string type, string region, string limit) => (
        $"select count(*) from odata_collectivite where type = {type} and region_code = {region}",
        $"""
        select id, siren, code, type, name, population, population_band, departement_code, region_code,
               epci_siren, is_obliged, is_open, first_seen_open, dataset_count, atd_count
          from odata_collectivite where type = {type} and region_code = {region} order by id limit {limit}
        """);
    static readonly (string Count, string Page) Literal = PageSql("'COM'", "'53'", "100"), Parameters = PageSql("$1", "$2", "$3");

    static async Task PageAsync(NpgsqlDataSource db, HttpContext ctx, bool parameters, CancellationToken ct)
    {
        var sql = parameters ? Parameters : Literal;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn) { BatchCommands = { new(sql.Count), new(sql.Page) } };
        if (parameters)
        {
            batch.BatchCommands[0].Parameters.Add(new() { Value = "COM" });
            batch.BatchCommands[0].Parameters.Add(new() { Value = "53" });
            batch.BatchCommands[1].Parameters.Add(new() { Value = "COM" });
            batch.BatchCommands[1].Parameters.Add(new() { Value = "53" });
            batch.BatchCommands[1].Parameters.Add(new() { Value = 100 });
        }
        await using var rd = await batch.ExecuteReaderAsync(ct);
        ctx.Response.ContentType = "application/json";
        var buffer = new ArrayBufferWriter<byte>();
        await using var w = new Utf8JsonWriter(buffer);
        w.WriteStartObject();
        await rd.ReadAsync(ct);
        w.WriteNumber("@odata.count", rd.GetInt64(0));
        await rd.NextResultAsync(ct);
        w.WriteStartArray("value");
        while (await rd.ReadAsync(ct))
        {
            w.WriteStartObject();
            for (var i = 0; i < rd.FieldCount; i++)
            {
                w.WritePropertyName(rd.GetName(i));
                if (rd.IsDBNull(i)) w.WriteNullValue();
                else JsonSerializer.Serialize(w, rd.GetValue(i));
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        await w.FlushAsync(ct);
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ct);
    }
}
