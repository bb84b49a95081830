using Npgsql;
using NpgsqlTypes;
using Observatoire.Reference;

namespace Observatoire.Indicators;

/// <summary>
/// Filters of every indicator (API, map, reports). All optional. <see cref="Types"/> empty = the national
/// scope (SQL <c>counts_nationally</c>: the collectivités proper of the 101 départements, COM, CC, CA, CU,
/// MET, EPT, DEP, REG). The collectivités d'outre-mer (flagged <c>is_overseas_collectivity</c>: the COLOM
/// and their communes) are counted only when <c>COLOM</c> is among the types asked for
/// (<c>type=COLOM</c>, or <c>type=COM,COLOM</c> for their communes too). <see cref="Date"/> null = the
/// latest observations.
/// </summary>
public sealed record IndicatorFilter(
    DateOnly? Date = null, IReadOnlyList<string>? Types = null, string? Band = null, string? Region = null,
    string? Departement = null, string? Atd = null, bool ObligedOnly = false)
{
    public static readonly string[] KnownTypes = CollectiviteTypes.All;
}

/// <summary>
/// Counts for one selection on a date. <see cref="Observed"/> is false when no observation exists on or
/// before the date: every figure derived from the status (open, obligedOpen, the rate, the population
/// living in open collectivités) is then null, never 0 ("not observed" is not "closed").
/// Population figures count each inhabitant once, from the communes of the selection (a selected commune,
/// or the member communes of a selected EPCI, EPT, département or région): <see cref="Population"/> all of
/// them, <see cref="PopulationInOpenCommunes"/> those that are open, <see cref="PopulationInOpenCommuneOrEpci"/>
/// those that are open or whose EPCI/EPT is open, and the département and région coverage apart
/// (<see cref="PopulationInOpenDepartement"/>, <see cref="PopulationInOpenRegion"/>): those whose
/// département (région) is open. An EPCI, département or région counts by its own status on the date,
/// selected or not.
/// </summary>
public sealed record IndicatorSet(
    DateOnly? Date, bool Observed, long Collectivites, long? Open, long Obliged, long? ObligedOpen, double? ObligedOpenRate,
    long Population, long? PopulationInOpenCommunes, long? PopulationInOpenCommuneOrEpci,
    long? PopulationInOpenDepartement, long? PopulationInOpenRegion);

public sealed record IndicatorRow(string Key, string? Label, IndicatorSet Values);

/// <summary>
/// THE indicator query layer: one SQL statement per answer over the one status rule (<c>open_on(date)</c>), so the API, the
/// map and the reports give the same figures for the same date and filters. Uncached on purpose (the
/// benchmark measures it: scripts/bench-status.sh); callers cache by data release.
/// </summary>
public sealed class IndicatorQueries(NpgsqlDataSource db)
{
    /// <summary>Breakdown dimensions accepted by <see cref="BreakdownAsync"/>.</summary>
    public static readonly string[] Dimensions = ["type", "band", "region", "departement"];

    /// <summary>
    /// Said wherever the obliged figures are shown: staff counts are unknown, so every collectivité of
    /// 3,500 inhabitants or more counts as obliged (SQL function <c>obligation</c>).
    /// </summary>
    public const string ObligationNote =
        "Le nombre de collectivités obligées est une borne haute : l'obligation vise les collectivités de 3 500 habitants ou plus "
        + "et de 50 agents ou plus, et l'effectif des agents n'est pas connu ; chaque personne morale est comptée une fois "
        + "(Ville de Paris, Collectivité de Corse, Martinique, Guyane, Mayotte, Collectivité européenne d'Alsace).";

    public async Task<IndicatorSet> ComputeAsync(IndicatorFilter f, CancellationToken ct = default)
    {
        var rows = await QueryAsync(f, null, ct);
        return rows.Count > 0 ? rows[0].Values : new IndicatorSet(f.Date, false, 0, null, 0, null, null, 0, null, null, null, null);
    }

    public async Task<IReadOnlyList<IndicatorRow>> BreakdownAsync(IndicatorFilter f, string by, CancellationToken ct = default)
    {
        if (!Dimensions.Contains(by)) throw new ArgumentException($"Dimension « {by} » inconnue : {string.Join(", ", Dimensions)}.", nameof(by));
        return await QueryAsync(f, by, ct);
    }

    /// <summary>The date of the latest status observation in the database (SQL <c>last_observation()</c>), null when none.</summary>
    public async Task<DateOnly?> LastObservationAsync(CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("select last_observation()");
        return await cmd.ExecuteScalarAsync(ct) is DateOnly d ? d : null;
    }

    /// <summary>Whether any observation exists on or before the date (any at all when null).</summary>
    public async Task<bool> ObservedAsync(DateOnly? date, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("select coalesce($1 >= first_observation(), false)");
        cmd.Parameters.AddWithValue(date ?? DateOnly.MaxValue);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>
    /// The selection of an <see cref="IndicatorFilter"/> (everything but its date) as a condition on the
    /// collectivité <c>c</c>, with the parameters of <see cref="AddSelectionParameters"/>: the indicators
    /// and the changes between two dates (<see cref="ChangeQueries"/>) select the same collectivités.
    /// </summary>
    public const string SelectionPredicate = """
        (case when @types::text[] is null then counts_nationally(c.type, c.is_overseas_collectivity)
              else c.type = any(@types) and (not c.is_overseas_collectivity or 'COLOM' = any(@types)) end)
        and (@band::text is null or c.population_band = @band)
        and (@region::text is null or c.region_code = @region)
        and (@dep::text is null or c.departement_code = @dep)
        and (@atd::text is null or exists (select 1 from atd_coverage ac where ac.atd_id = @atd and ac.collectivite_id = c.id))
        and (not @obliged or c.is_obliged)
        """;

    public static void AddSelectionParameters(NpgsqlCommand cmd, IndicatorFilter f)
    {
        cmd.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text)
        { Value = f.Types is { Count: > 0 } ts ? ts.ToArray() : DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("band", NpgsqlDbType.Text) { Value = (object?)f.Band ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("region", NpgsqlDbType.Text) { Value = (object?)f.Region ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("dep", NpgsqlDbType.Text) { Value = (object?)f.Departement ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("atd", NpgsqlDbType.Text) { Value = (object?)f.Atd ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("obliged", NpgsqlDbType.Boolean) { Value = f.ObligedOnly });
    }

    async Task<List<IndicatorRow>> QueryAsync(IndicatorFilter f, string? by, CancellationToken ct)
    {
        // On or after the latest observation the status is exactly the derived column collectivite.is_open
        // (refreshed by every import), so the common "now" question skips the runs of status_period.
        var last = await LastObservationAsync(ct);
        var historical = f.Date is { } day && last is { } l && day < l;
        var national = f.Types is null or { Count: 0 } && f.Band is null && f.Region is null && f.Departement is null && f.Atd is null && !f.ObligedOnly;
        var sql = national && by is null ? NationalSql(historical) : SelectionSql(by, historical);
        await using var cmd = db.CreateCommand(sql);
        cmd.CommandTimeout = 30;
        cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Date) { Value = f.Date is { } d ? d : DateOnly.MaxValue });
        AddSelectionParameters(cmd, f);
        var rows = new List<IndicatorRow>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
        {
            var observed = rd.GetBoolean(11);
            long? Status(int i) => observed ? rd.GetInt64(i) : null;
            long obliged = rd.GetInt64(4), obligedOpen = rd.GetInt64(5);
            rows.Add(new IndicatorRow(rd.GetString(0), rd.IsDBNull(1) ? null : rd.GetString(1), new IndicatorSet(
                f.Date, observed, rd.GetInt64(2), Status(3), obliged, Status(5),
                observed && obliged > 0 ? Math.Round((double)obligedOpen / obliged, 4) : null,
                rd.GetInt64(6), Status(7), Status(8), Status(9), Status(10))));
        }
        return rows;
    }

    /// <summary>The figures of any selection, per key of a breakdown: the selection is scanned and each commune's parents probed.</summary>
    static string SelectionSql(string? by, bool historical)
    {
        var key = by switch
        {
            null => "'all'",
            "type" => "c.type",
            "band" => "coalesce(c.population_band, 'inconnue')",
            "region" => "coalesce(c.region_code, '-')",
            _ => "coalesce(c.departement_code, '-')",
        };
        var label = by switch
        {
            "region" => "(select r.name from collectivite r where r.type in ('REG','COLOM') and r.code = k.key limit 1)",
            "departement" => "(select d.name from collectivite d where d.type in ('DEP','COLOM') and d.code = k.key limit 1)",
            _ => "null::text",
        };
        // A past date reads the set open on that day once (open_on: the status runs containing it, a few
        // thousand rows whatever the history's length), for the selection and the open parents alike.
        var statusCte = historical ? "st as materialized (select collectivite_id from open_on(@d))," : "";
        var status = historical ? "left join st on st.collectivite_id = c.id" : "";
        var isOpen = historical ? "(st.collectivite_id is not null)" : "c.is_open";
        var head = $"""
            with {statusCte}
            open_parents as materialized (
                -- The open EPCI/EPT (by SIREN), départements and régions (by code) on the date, selected or
                -- not: a commune counts as living under an open one by that one's own status.
                select c.type, c.siren, c.code from collectivite c {status} where {isOpen} and c.type <> 'COM'),
            sel as materialized (
                select {key} as key, c.id, c.type, c.code, c.siren, c.is_obliged, {isOpen} as is_open
                  from collectivite c {status}
                 where {SelectionPredicate}),
            k as (
                select key, count(*) as n, count(*) filter (where is_open) as open, count(*) filter (where is_obliged) as obliged,
                       count(*) filter (where is_obliged and is_open) as obliged_open
                  from sel group by key),
            """;
        // The population figures over "the communes of the selection" m (each once per key); the commune's
        // own status is mOpen, its parents' come from open_parents (hashed once per list).
        var mStatus = historical ? "left join st ms on ms.collectivite_id = m.id" : "";
        var mOpen = historical ? "(ms.collectivite_id is not null)" : "m.is_open";
        var populations = $"""
                coalesce(sum(m.population), 0)::bigint as population,
                coalesce(sum(m.population) filter (where {mOpen}), 0)::bigint as open_communes,
                coalesce(sum(m.population) filter (where {mOpen}
                     or m.epci_siren in (select siren from open_parents where type = any(epci_types()))
                     or m.ept_siren in (select siren from open_parents where type = 'EPT')), 0)::bigint as open_commune_or_epci,
                coalesce(sum(m.population) filter (where m.departement_code in (select code from open_parents where type in ('DEP', 'COLOM'))), 0)::bigint as open_departement,
                coalesce(sum(m.population) filter (where m.region_code in (select code from open_parents where type = 'REG')), 0)::bigint as open_region
            """;
        var pop = by is null
            // One figure: one scan of the communes, each probed against the selection's levels.
            ? $"""
              pop as (
                  select 'all'::text as key, {populations}
                    from collectivite m {mStatus}
                   where m.type = 'COM'
                     and (m.id in (select id from sel) or m.epci_siren in (select siren from sel where type = any(epci_types()))
                          or m.ept_siren in (select siren from sel where type = 'EPT') or m.departement_code in (select code from sel where type in ('DEP', 'COLOM'))
                          or m.region_code in (select code from sel where type = 'REG')))
              """
            // Per key: each commune once, joined to the selection by each of its levels (hash joins on the
            // selection's few parents), under each distinct key that reaches it: itself, its EPCI, its EPT, its
            // département, its région. The former union of five joins, then a distinct over 139,000 (key, commune)
            // pairs for the national selection, gave the same answers more slowly (206 → 142 ms by département, warm).
            : $"""
              pop as (
                  select x.key, {populations}
                    from collectivite m {mStatus}
                    left join sel s0 on s0.id = m.id and s0.type = 'COM'
                    left join sel s1 on s1.siren = m.epci_siren and s1.type = any(epci_types())
                    left join sel s2 on s2.siren = m.ept_siren and s2.type = 'EPT'
                    left join sel s3 on s3.code = m.departement_code and s3.type in ('DEP', 'COLOM')
                    left join sel s4 on s4.code = m.region_code and s4.type = 'REG'
                    cross join lateral (select distinct v.key from (values (s0.key), (s1.key), (s2.key), (s3.key), (s4.key)) v(key)
                                         where v.key is not null) x
                   where m.type = 'COM'
                   group by x.key)
              """;
        return $"""
            {head}
            {pop}
            select k.key, {label} as label, k.n, k.open, k.obliged, k.obliged_open,
                   coalesce(p.population, 0), coalesce(p.open_communes, 0), coalesce(p.open_commune_or_epci, 0),
                   coalesce(p.open_departement, 0), coalesce(p.open_region, 0),
                   coalesce(@d >= first_observation(), false)
              from k left join pop p on p.key = k.key
             order by k.key
            """;
    }

    /// <summary>
    /// The national figures without a filter (the map's default, the progress series, the reports): the same
    /// answers as <see cref="SelectionSql"/> (a test compares them at every date), read from what does not
    /// depend on the date (migration 015: national_scope_total, commune_population_under, refreshed by the
    /// reference import) and the collectivités open on the date, a few thousand rows whatever the history's length.
    /// "Open commune or EPCI" is summed in three disjoint parts: the communes under an open EPCI, those under an
    /// open EPT whose EPCI is not open, and the open communes under neither.
    /// </summary>
    static string NationalSql(bool historical) => $"""
        with o as materialized (
            select c.type, c.siren::text as siren, c.code, c.population, c.is_obliged, c.epci_siren::text as epci,
                   c.ept_siren::text as ept, counts_nationally(c.type, c.is_overseas_collectivity) as nat
              from collectivite c
             -- the ids as an array: one primary-key probe each (the planner, misjudging how many runs hold
             -- a date, would otherwise scan the 36,000 collectivités to hash-join a few hundred)
             where {(historical ? "c.id = any(array(select collectivite_id from open_on(@d)))" : "c.is_open")}),
        open_epci as materialized (select siren from o where type = any(epci_types())),
        open_ept as materialized (select siren from o where type = 'EPT'),
        a as (
            select count(*) filter (where nat) as open, count(*) filter (where nat and is_obliged) as obliged_open,
                   coalesce(sum(population) filter (where nat and type = 'COM'), 0)::bigint as open_communes,
                   coalesce(sum(population) filter (where nat and type = 'COM'
                       and not coalesce(epci in (select siren from open_epci), false)
                       and not coalesce(ept in (select siren from open_ept), false)), 0)::bigint as open_communes_alone
              from o)
        select 'all', null::text, t.collectivites, a.open, t.obliged, a.obliged_open, t.population, a.open_communes,
               a.open_communes_alone
               + (select coalesce(sum(u.population), 0) from commune_population_under u
                   where u.level = 'EPCI' and u.key in (select siren from open_epci))
               + (select coalesce(sum(u.population), 0) from commune_population_under u
                   where u.level = 'EPT' and u.key in (select siren from open_ept) and not coalesce(u.epci in (select siren from open_epci), false)),
               (select coalesce(sum(u.population), 0) from commune_population_under u
                 where u.level = 'DEP' and u.key in (select code from o where type in ('DEP', 'COLOM'))),
               (select coalesce(sum(u.population), 0) from commune_population_under u
                 where u.level = 'REG' and u.key in (select code from o where type = 'REG')),
               coalesce(@d >= first_observation(), false)
          from national_scope_total t cross join a
        """;
}
