using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Reference;

namespace Observatoire.Indicators;

/// <summary>
/// Filters of every indicator (API, map, reports). All optional. <see cref="Types"/> empty = every
/// collectivité proper (COM, CC, CA, CU, MET, EPT, DEP, REG); the collectivités d'outre-mer (COLOM) are
/// counted only when asked for by type, as in the domain's 101/18 counts. <see cref="Date"/> null = the
/// latest observations.
/// </summary>
public sealed record IndicatorFilter(
    DateOnly? Date = null, IReadOnlyList<string>? Types = null, string? Band = null, string? Region = null,
    string? Departement = null, string? Atd = null, bool ObligedOnly = false)
{
    public static readonly string[] KnownTypes = [.. Obligation.Types, "COLOM"];
    static readonly Regex Code = new("^[0-9]{2,3}$|^2[AB]$", RegexOptions.CultureInvariant);
    static readonly Regex Slug = new("^[a-z0-9-]{1,80}$", RegexOptions.CultureInvariant);

    /// <summary>Null when valid, else what is wrong, in French, for a 400.</summary>
    public string? Problem()
    {
        if (Types is { } ts && ts.FirstOrDefault(t => !KnownTypes.Contains(t)) is { } bad)
            return $"type « {bad} » inconnu : valeurs possibles {string.Join(", ", KnownTypes)} (plusieurs séparées par des virgules).";
        if (Band is not null && !PopulationBands.All.Contains(Band))
            return $"strate « {Band} » inconnue : valeurs possibles {string.Join(", ", PopulationBands.All)}.";
        if (Region is not null && !Code.IsMatch(Region)) return $"code de région « {Region} » invalide (ex. 53).";
        if (Departement is not null && !Code.IsMatch(Departement)) return $"code de département « {Departement} » invalide (ex. 35, 2A, 974).";
        if (Atd is not null && !Slug.IsMatch(Atd)) return $"identifiant d'ATD « {Atd} » invalide (ex. rennes-metropole ; liste : /api/atd).";
        if (Date is { } d && (d.Year < 2000 || d.Year > 2100)) return $"date {d:yyyy-MM-dd} hors de la plage 2000–2100.";
        return null;
    }
}

/// <summary>
/// Counts for one selection. <see cref="PopulationInOpen"/> = inhabitants of the communes that lie in at
/// least one open collectivité of the selection (a commune that is open, or whose EPCI, EPT, département
/// or région is open), each inhabitant counted once.
/// </summary>
public sealed record IndicatorSet(
    DateOnly? Date, long Collectivites, long Open, long Obliged, long ObligedOpen, double? ObligedOpenRate,
    long Population, long PopulationInOpen);

public sealed record IndicatorRow(string Key, string? Label, IndicatorSet Values);

/// <summary>
/// THE indicator query layer: one SQL statement per answer over <c>status_on(date)</c>, so the API, the
/// map and the reports give the same figures for the same date and filters. Uncached on purpose (the
/// benchmark measures it: scripts/bench-status.sh); callers cache by data release.
/// </summary>
public sealed class IndicatorQueries(NpgsqlDataSource db)
{
    /// <summary>Breakdown dimensions accepted by <see cref="BreakdownAsync"/>.</summary>
    public static readonly string[] Dimensions = ["type", "band", "region", "departement"];

    public async Task<IndicatorSet> ComputeAsync(IndicatorFilter f, CancellationToken ct = default)
    {
        var rows = await QueryAsync(f, null, ct);
        return rows.Count > 0 ? rows[0].Values : new IndicatorSet(f.Date, 0, 0, 0, 0, null, 0, 0);
    }

    public async Task<IReadOnlyList<IndicatorRow>> BreakdownAsync(IndicatorFilter f, string by, CancellationToken ct = default)
    {
        if (!Dimensions.Contains(by)) throw new ArgumentException($"Dimension « {by} » inconnue : {string.Join(", ", Dimensions)}.", nameof(by));
        return await QueryAsync(f, by, ct);
    }

    async Task<DateOnly?> LatestObservationAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select max(observed_on) from status_snapshot");
        return await cmd.ExecuteScalarAsync(ct) is DateOnly d ? d : null;
    }

    async Task<List<IndicatorRow>> QueryAsync(IndicatorFilter f, string? by, CancellationToken ct)
    {
        var key = by switch
        {
            null => "'all'",
            "type" => "sel.type",
            "band" => "coalesce(sel.population_band, 'inconnue')",
            "region" => "coalesce(sel.region_code, '-')",
            _ => "coalesce(sel.departement_code, '-')",
        };
        var label = by switch
        {
            "region" => "(select r.name from collectivite r where r.type in ('REG','COLOM') and r.code = k.key limit 1)",
            "departement" => "(select d.name from collectivite d where d.type in ('DEP','COLOM') and d.code = k.key limit 1)",
            _ => "null::text",
        };
        // The selection with its status on the date, then (per key) the counts and the population of
        // the communes inside an open collectivité of the selection (no double count).
        // On or after the latest observation the status is exactly the derived column collectivite.is_open
        // (refreshed by every import), so the common "now" question skips status_on.
        var latest = await LatestObservationAsync(ct);
        var historical = f.Date is { } day && latest is { } l && day < l;
        var status = historical ? "join status_on(@d) st on st.collectivite_id = c.id" : "";
        var isOpen = historical ? "st.is_open" : "c.is_open";
        var filters = """
                (c.type = any(@types))
                and (@band::text is null or c.population_band = @band)
                and (@region::text is null or c.region_code = @region)
                and (@dep::text is null or c.departement_code = @dep)
                and (@atd::text is null or exists (select 1 from atd_coverage ac where ac.atd_id = @atd and ac.collectivite_id = c.id))
                and (not @obliged or c.is_obliged)
            """;
        var selection = $"""
            with sel as (
                select c.id, c.type, c.code, c.siren, c.population, c.population_band, c.region_code, c.departement_code,
                       c.is_obliged, {isOpen} as is_open
                  from collectivite c
                  {status}
                 where {filters})
            """;
        // Without breakdown (the national figure, the hot path): the counts in one scan, like a bare
        // count; the open collectivités of the selection (partial index on is_open, or status_on for a
        // past date); then one scan of the communes, each probing that small set by its own id and its
        // parents' ids (PostgreSQL hashes each uncorrelated IN list once), so a commune counts once.
        var sql = by is null ? $"""
            with open_ids as materialized (
                select c.id from collectivite c {status} where {filters} and {isOpen})
            select 'all', null::text, count(*), count(*) filter (where {isOpen}), count(*) filter (where c.is_obliged),
                   count(*) filter (where c.is_obliged and {isOpen}), coalesce(sum(c.population), 0)::bigint,
                   (select coalesce(sum(m.population), 0)::bigint from collectivite m
                     where m.type = 'COM' and (m.id in (select id from open_ids)
                        or ('EPCI-' || m.epci_siren) in (select id from open_ids) or ('EPT-' || m.ept_siren) in (select id from open_ids)
                        or ('DEP-' || m.departement_code) in (select id from open_ids) or ('COLOM-' || m.departement_code) in (select id from open_ids)
                        or ('REG-' || m.region_code) in (select id from open_ids)))
              from collectivite c {status}
             where {filters}
            """ : $"""
            {selection},
            k as materialized (select {key} as key, sel.* from sel),
            open_sel as materialized (select * from k where is_open),
            open_communes as (
                -- Per key: one equi-join per level (hash joins), then distinct communes.
                select o.key, o.id, o.population from open_sel o where o.type = 'COM'
                union
                select o.key, m.id, m.population from open_sel o join collectivite m on m.epci_siren = o.siren
                 where o.type in ('CC','CA','CU','MET') and m.type = 'COM'
                union
                select o.key, m.id, m.population from open_sel o join collectivite m on m.ept_siren = o.siren
                 where o.type = 'EPT' and m.type = 'COM'
                union
                select o.key, m.id, m.population from open_sel o join collectivite m on m.departement_code = o.code
                 where o.type in ('DEP','COLOM') and m.type = 'COM'
                union
                select o.key, m.id, m.population from open_sel o join collectivite m on m.region_code = o.code
                 where o.type = 'REG' and m.type = 'COM')
            select k.key, {label} as label, k.n, k.open, k.obliged, k.obliged_open, k.population,
                   coalesce(p.population, 0)::bigint
              from (select key, count(*) as n, count(*) filter (where is_open) as open,
                           count(*) filter (where is_obliged) as obliged, count(*) filter (where is_obliged and is_open) as obliged_open,
                           coalesce(sum(population), 0)::bigint as population
                      from k group by key) k
              left join (select key, sum(population) as population from open_communes group by key) p on p.key = k.key
             order by k.key
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.CommandTimeout = 30;
        cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Date) { Value = f.Date is { } d ? d : DateOnly.MaxValue });
        cmd.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text)
        { Value = (f.Types is { Count: > 0 } ts ? ts : Obligation.Types).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("band", NpgsqlDbType.Text) { Value = (object?)f.Band ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("region", NpgsqlDbType.Text) { Value = (object?)f.Region ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("dep", NpgsqlDbType.Text) { Value = (object?)f.Departement ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("atd", NpgsqlDbType.Text) { Value = (object?)f.Atd ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("obliged", NpgsqlDbType.Boolean) { Value = f.ObligedOnly });
        var rows = new List<IndicatorRow>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
        {
            long obliged = rd.GetInt64(4), obligedOpen = rd.GetInt64(5);
            rows.Add(new IndicatorRow(rd.GetString(0), rd.IsDBNull(1) ? null : rd.GetString(1), new IndicatorSet(
                f.Date, rd.GetInt64(2), rd.GetInt64(3), obliged, obligedOpen,
                obliged == 0 ? null : Math.Round((double)obligedOpen / obliged, 4), rd.GetInt64(6), rd.GetInt64(7))));
        }
        return rows;
    }
}
