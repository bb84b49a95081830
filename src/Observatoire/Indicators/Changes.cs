using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Api;
using Observatoire.Reports;

namespace Observatoire.Indicators;

/// <summary>The observation that decides a collectivité's status on a date (SQL changes_between).</summary>
public sealed record DecisiveObservation(long Id, DateOnly Date, string Source, bool Open, int? DatasetsLocal, int? DatasetsDataGouv, string? RecordedBy);

/// <summary>One collectivité whose status differs between two dates; <see cref="Point"/>: its label point [lon, lat] for the map.</summary>
public sealed record Change(string Kind, string Id, string Name, string Type, string Code, string? Departement,
    bool OpenBefore, bool OpenAfter, int? DatasetsBefore, int? DatasetsAfter, DecisiveObservation? Before, DecisiveObservation? After,
    double[]? Point);

/// <summary>
/// What changed between two dates (issue #17): SQL <c>changes_between(d1, d2)</c> over the one status rule,
/// for the indicators' selection (<see cref="IndicatorQueries.SelectionPredicate"/>: type, band, région,
/// département, ATD, obliged), so a change list and the indicators of the same filters always agree.
/// </summary>
public sealed class ChangeQueries(NpgsqlDataSource db)
{
    /// <summary>At most this many changes per answer (a national list between 2010 and today is about 1,000).</summary>
    public const int MaxRows = 10_000;

    public static readonly string[] Kinds = ["newly_open", "no_longer_listed", "datasets_up", "datasets_down"];

    /// <param name="covered">The map's ATD filter: true, in at least one ATD perimeter; false, in none; null, either.</param>
    public async Task<List<Change>> ListAsync(DateOnly from, DateOnly to, IndicatorFilter f, CancellationToken ct, bool? covered = null)
    {
        await using var cmd = db.CreateCommand($"""
            select x.change, c.id, c.name, c.type, c.code, c.departement_code, x.open_before, x.open_after,
                   x.datasets_before, x.datasets_after,
                   ob.id, ob.observed_on, ob.source, ob.is_listed, ob.datasets_local, ob.datasets_datagouv, ob.contributor,
                   oa.id, oa.observed_on, oa.source, oa.is_listed, oa.datasets_local, oa.datasets_datagouv, oa.contributor,
                   round(ST_X(g.label_point)::numeric, 5)::float8, round(ST_Y(g.label_point)::numeric, 5)::float8
              from changes_between(@from, @to) x
              join collectivite c on c.id = x.collectivite_id
              left join observation ob on ob.id = x.observation_before
              left join observation oa on oa.id = x.observation_after
              left join collectivite_geometry g on g.collectivite_id = c.id
             where {IndicatorQueries.SelectionPredicate}
               and (@covered::boolean is null or (c.atd_count > 0) = @covered)
             order by array_position(array['newly_open', 'no_longer_listed', 'datasets_up', 'datasets_down'], x.change),
                      c.population desc nulls last, c.id
             limit {MaxRows}
            """);
        cmd.CommandTimeout = 30;
        cmd.Parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.Date) { Value = from });
        cmd.Parameters.Add(new NpgsqlParameter("to", NpgsqlDbType.Date) { Value = to });
        cmd.Parameters.Add(new NpgsqlParameter("covered", NpgsqlDbType.Boolean) { Value = (object?)covered ?? DBNull.Value });
        IndicatorQueries.AddSelectionParameters(cmd, f);
        var list = new List<Change>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
            list.Add(new(rd.GetString(0), rd.GetString(1), rd.GetString(2), rd.GetString(3), rd.GetString(4),
                rd.IsDBNull(5) ? null : rd.GetString(5), rd.GetBoolean(6), rd.GetBoolean(7),
                rd.IsDBNull(8) ? null : rd.GetInt32(8), rd.IsDBNull(9) ? null : rd.GetInt32(9), Observation(rd, 10), Observation(rd, 17),
                rd.IsDBNull(24) ? null : [rd.GetDouble(24), rd.GetDouble(25)]));
        return list;
    }

    static DecisiveObservation? Observation(NpgsqlDataReader rd, int i) => rd.IsDBNull(i) ? null : new(
        rd.GetInt64(i), rd.GetFieldValue<DateOnly>(i + 1), rd.GetString(i + 2), rd.GetBoolean(i + 3),
        rd.IsDBNull(i + 4) ? null : rd.GetInt32(i + 4), rd.IsDBNull(i + 5) ? null : rd.GetInt32(i + 5), rd.IsDBNull(i + 6) ? null : rd.GetString(i + 6));

    static readonly Dictionary<string, string> KindLabels = new()
    {
        ["newly_open"] = "nouvellement ouverte",
        ["no_longer_listed"] = "n'apparaît plus ouverte",
        ["datasets_up"] = "jeux de données en hausse",
        ["datasets_down"] = "jeux de données en baisse",
    };

    /// <summary>The changes as a table for CSV (the reports' CSV writer: French or RFC 4180).</summary>
    public static ReportTable Table(IReadOnlyList<Change> changes) => new("changements", "Changements",
        [
            new("Changement", ColumnKind.Text), new("Identifiant", ColumnKind.Text), new("Nom", ColumnKind.Text),
            new("Type", ColumnKind.Text), new("Code", ColumnKind.Text), new("Département", ColumnKind.Text),
            new("Jeux de données avant", ColumnKind.Integer), new("Jeux de données après", ColumnKind.Integer),
            new("Observation avant (n°)", ColumnKind.Integer), new("Date de l'observation avant", ColumnKind.Date), new("Source avant", ColumnKind.Text),
            new("Observation après (n°)", ColumnKind.Integer), new("Date de l'observation après", ColumnKind.Date), new("Source après", ColumnKind.Text),
        ],
        changes.Select(c => new object?[]
        {
            KindLabels[c.Kind], c.Id, c.Name, c.Type, c.Code, c.Departement, c.DatasetsBefore, c.DatasetsAfter,
            c.Before?.Id, c.Before?.Date, c.Before?.Source, c.After?.Id, c.After?.Date, c.After?.Source,
        }).ToList());
}

public static class ChangeEndpoints
{
    /// <summary>
    /// GET /api/changes?from=D1&amp;to=D2 with the indicators' filters; format=json (default), csv (French
    /// spreadsheet) or rfc4180. Without from and to: the last two directory snapshots (SQL
    /// latest_snapshot_pair, as OData CollectiviteChanges), the map's one-click comparison. atd also takes
    /// the map's true / false (covered by an ATD or not) besides an ATD's identifier.
    /// </summary>
    public static IEndpointRouteBuilder MapChanges(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/changes", async (HttpContext http, ChangeQueries q, IndicatorQueries indicators, NpgsqlDataSource db, CancellationToken ct) =>
        {
            var p = new QueryParameters(http.Request.Query);
            var from = p.Date("from");
            var to = p.Date("to");
            var f = IndicatorEndpoints.Filter(p);
            var format = p.OneOf("format", ["json", "csv", "rfc4180"]) ?? "json";
            if (!p.IsValid) return p.Problem();
            bool? covered = f.Atd switch { "true" => true, "false" => false, _ => null };
            if (covered is not null) f = f with { Atd = null };
            if (from is null && to is null)
                (from, to) = await LatestSnapshotPairAsync(db, ct);
            if (from is null || to is null)
                return Problems.BadParameter("« from » et « to » sont obligatoires : deux dates AAAA-MM-JJ (ex. from=2022-04-25&to=2022-10-19).");
            if (from > to)
                return Problems.BadParameter($"« from » ({from:yyyy-MM-dd}) doit précéder « to » ({to:yyyy-MM-dd}).");
            if (f.Date is not null)
                return Problems.BadParameter("« date » ne s'applique pas ici : les deux dates sont « from » et « to ».");
            var changes = await q.ListAsync(from.Value, to.Value, f, ct, covered);
            if (format != "json")
                return Results.File(CsvReport.Render(ChangeQueries.Table(changes), format == "rfc4180" ? CsvDialect.Rfc4180 : CsvDialect.French),
                    "text/csv; charset=utf-8", $"changements-{from:yyyy-MM-dd}-{to:yyyy-MM-dd}.csv");
            object Item(Change c) => new
            {
                c.Id, c.Name, c.Type, c.Code, c.Departement, c.DatasetsBefore, c.DatasetsAfter, c.Before, c.After, c.Point,
            };
            return Results.Json(new
            {
                from, to,
                observedFrom = await indicators.ObservedAsync(from, ct),
                lastObservation = await indicators.LastObservationAsync(ct),
                truncated = changes.Count >= ChangeQueries.MaxRows,
                newlyOpen = changes.Where(c => c.Kind == "newly_open").Select(Item),
                noLongerListed = changes.Where(c => c.Kind == "no_longer_listed").Select(Item),
                datasetChanges = changes.Where(c => c.Kind is "datasets_up" or "datasets_down").Select(c => new
                {
                    change = c.Kind == "datasets_up" ? "up" : "down", c.Id, c.Name, c.Type, c.Code, c.Departement,
                    c.DatasetsBefore, c.DatasetsAfter, c.Before, c.After, c.Point,
                }),
            });
        }).WithName("Changes");
        return app;
    }

    /// <summary>The last two directory snapshots' dates (null before any observation).</summary>
    static async Task<(DateOnly?, DateOnly?)> LatestSnapshotPairAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select d1, d2 from latest_snapshot_pair()");
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        await rd.ReadAsync(ct);
        return (rd.IsDBNull(0) ? null : rd.GetFieldValue<DateOnly>(0), rd.IsDBNull(1) ? null : rd.GetFieldValue<DateOnly>(1));
    }
}
