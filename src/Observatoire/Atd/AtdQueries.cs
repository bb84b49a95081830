using Npgsql;

namespace Observatoire.Atds;

/// <summary>
/// An ATD's figures on a date. <c>PerimeterNames</c>: the names of the région, départements, EPCI or
/// communes its perimeter lists (same order as <c>PerimeterCodes</c>); <c>Seasons</c>: the
/// OpenDataLocale seasons it took part in; <c>Bbox</c>: [minLon, minLat, maxLon, maxLat] of its
/// perimeter, null when it has none.
/// </summary>
public sealed record AtdFigures(
    string Id, string Name, string Kind, string? Scale, string? PerimeterType, string[] PerimeterCodes, string? CollectiviteId,
    long Covered, long Obliged, long Open, long ObligedOpen, double? ObligedOpenRate,
    string[] PerimeterNames, string[] Seasons, double[]? Bbox);

public sealed record TodoItem(string Id, string Code, string Type, string Name, int? Population, string? DepartementCode, int? DatasetCount);

/// <summary>Per-ATD figures on a date, and an ATD's to-do list: the obliged collectivités of its perimeter not open yet, largest first.</summary>
public sealed class AtdQueries(NpgsqlDataSource db)
{
    public const int MaxTodo = 5000;

    public async Task<IReadOnlyList<AtdFigures>> ListAsync(DateOnly? date, string? id = null, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("""
            select a.id, a.name, a.kind, a.scale, a.perimeter_type, a.perimeter_codes, a.collectivite_id,
                   count(c.id), count(*) filter (where c.is_obliged), count(*) filter (where o.collectivite_id is not null),
                   count(*) filter (where c.is_obliged and o.collectivite_id is not null),
                   -- The perimeter's names, by code or (EPCI) by SIREN: two joins, as one join on "code or siren"
                   -- could only be a nested loop over every collectivité (270 of this query's 450 ms).
                   array(select n.name from (
                           select u.i, p.name from unnest(a.perimeter_codes) with ordinality u(code, i)
                             join collectivite p on p.code = u.code
                            where p.type = case a.perimeter_type when 'region' then 'REG' when 'departements' then 'DEP' when 'communes' then 'COM' end
                           union all
                           select u.i, p.name from unnest(a.perimeter_codes) with ordinality u(code, i)
                             join collectivite p on p.siren = u.code::bpchar
                            where a.perimeter_type = 'epci' and p.type = any(groupement_types())) n
                          order by n.i),
                   a.seasons,
                   case when a.perimeter is not null then array[ST_XMin(a.perimeter), ST_YMin(a.perimeter), ST_XMax(a.perimeter), ST_YMax(a.perimeter)] end
              from atd a
              left join atd_coverage ac on ac.atd_id = a.id
              left join collectivite c on c.id = ac.collectivite_id
              -- open_on: the runs open on the date only (a few thousand), where status_on would join the
              -- 36,000 collectivités again (53 → 33 ms for the whole list, warm)
              left join open_on($1) o on o.collectivite_id = c.id
             where ($2::text is null or a.id = $2)
             group by a.id order by a.name, a.id
            """);
        cmd.Parameters.AddWithValue(date ?? DateOnly.MaxValue);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var list = new List<AtdFigures>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
        {
            long obliged = rd.GetInt64(8), obligedOpen = rd.GetInt64(10);
            list.Add(new AtdFigures(rd.GetString(0), rd.GetString(1), rd.GetString(2), rd.IsDBNull(3) ? null : rd.GetString(3),
                rd.IsDBNull(4) ? null : rd.GetString(4), rd.GetFieldValue<string[]>(5), rd.IsDBNull(6) ? null : rd.GetString(6),
                rd.GetInt64(7), obliged, rd.GetInt64(9), obligedOpen, obliged == 0 ? null : Math.Round((double)obligedOpen / obliged, 4),
                rd.GetFieldValue<string[]>(11), rd.GetFieldValue<string[]>(12),
                rd.IsDBNull(13) ? null : rd.GetFieldValue<double[]>(13).Select(v => Math.Round(v, 5)).ToArray()));
        }
        return list;
    }

    /// <summary>Null when the ATD does not exist.</summary>
    public async Task<IReadOnlyList<TodoItem>?> TodoAsync(string id, DateOnly? date, int limit, CancellationToken ct = default)
    {
        await using (var exists = db.CreateCommand("select 1 from atd where id = $1"))
        {
            exists.Parameters.AddWithValue(id);
            if (await exists.ExecuteScalarAsync(ct) is null) return null;
        }
        await using var cmd = db.CreateCommand("""
            select c.id, c.code, c.type, c.name, c.population, c.departement_code, t.dataset_count
              from atd_coverage ac
              join todo_on($2) t on t.collectivite_id = ac.collectivite_id
              join collectivite c on c.id = t.collectivite_id
             where ac.atd_id = $1
             order by t.rank
             limit $3
            """);
        cmd.Parameters.AddWithValue(id);
        cmd.Parameters.AddWithValue(date ?? DateOnly.MaxValue);
        cmd.Parameters.AddWithValue(Math.Clamp(limit, 1, MaxTodo));
        var list = new List<TodoItem>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
            list.Add(new TodoItem(rd.GetString(0), rd.GetString(1), rd.GetString(2), rd.GetString(3),
                rd.IsDBNull(4) ? null : rd.GetInt32(4), rd.IsDBNull(5) ? null : rd.GetString(5), rd.IsDBNull(6) ? null : rd.GetInt32(6)));
        return list;
    }
}
