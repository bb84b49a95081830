using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Api;
using Observatoire.Indicators;

namespace Observatoire.Reports;

/// <summary>Filters of a report, as given by the caller (already syntactically checked).</summary>
/// <param name="Since">start of the « Changements » section (default: the previous directory snapshot, see <see cref="ChangeSection"/>)</param>
public sealed record ReportRequest(DateOnly? Date, string? Region, string? Atd, DateOnly? Since = null);

/// <summary>A request the builder refuses: <see cref="Status"/> is 400 (bad parameter) or 404 (unknown ATD).</summary>
public sealed class ReportInputException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}

/// <summary>
/// Builds a <see cref="ReportModel"/> for a date and a scope with SQL over the schema contract
/// (migrations/002_status.sql: status_on(date), collectivite.is_obliged, atd_coverage, milestone).
/// All the reports' SQL lives in this file, so that it can be switched in one place to the shared
/// indicator layer; the reconciliation tests compare its figures with direct SQL.
/// </summary>
/// <remarks>
/// One transaction (repeatable read, so every figure sees the same data): the status of every
/// collectivité on the date is computed once into a temporary table, then aggregated. Every list is
/// bounded (<see cref="TodoLimit"/>, <see cref="TopAtds"/>).
/// </remarks>
public sealed class ReportModelBuilder(NpgsqlDataSource db)
{
    /// <summary>Rows of the to-do list kept in the model (CSV/XLSX); the PDF prints fewer.</summary>
    public const int TodoLimit = 5000;
    /// <summary>ATD shown in "largest to-do lists", and items shown per ATD.</summary>
    public const int TopAtds = 8, TopItemsPerAtd = 5;

    public static readonly IReadOnlyDictionary<string, string> TypeLabels = new Dictionary<string, string>
    {
        ["COM"] = "Communes", ["CC"] = "Communautés de communes", ["CA"] = "Communautés d'agglomération",
        ["CU"] = "Communautés urbaines", ["MET"] = "Métropoles", ["EPT"] = "Établissements publics territoriaux",
        ["DEP"] = "Départements", ["REG"] = "Régions", ["COLOM"] = "Collectivités d'outre-mer",
    };

    public async Task<ReportModel> BuildAsync(ReportRequest request, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

        var scope = await ScopeAsync(conn, request, ct);
        DateOnly? first = null, latest = null;
        string? vintage = null;
        await using (var cmd = new NpgsqlCommand("""
            select first_observation(), last_observation(),
                   (select vintage from data_release where kind = 'reference' order by id desc limit 1)
            """, conn))
        await using (var rd = await cmd.ExecuteReaderAsync(ct))
        {
            await rd.ReadAsync(ct);
            if (!rd.IsDBNull(0)) first = rd.GetFieldValue<DateOnly>(0);
            if (!rd.IsDBNull(1)) latest = rd.GetFieldValue<DateOnly>(1);
            if (!rd.IsDBNull(2)) vintage = rd.GetString(2);
        }
        var asOf = request.Date ?? latest ?? QueryParameters.Today;
        if (request.Since is { } since && since >= asOf)
            throw new ReportInputException(400, "Paramètre invalide",
                $"paramètre « since » = « {since:yyyy-MM-dd} » : il doit précéder la date du rapport ({asOf:yyyy-MM-dd}).");
        var before = first is null || asOf < first;
        string? notice = before
            ? first is null
                ? "Aucune observation de l'état d'ouverture n'est encore chargée : ce rapport ne donne que les chiffres du référentiel (collectivités, obligées), pas de chiffres d'ouverture."
                : $"La date demandée ({Fr.Date(asOf)}) précède la première observation ({Fr.Date(first.Value)}) : aucun chiffre d'ouverture n'est connu à cette date. Seuls les chiffres du référentiel et les jalons publiés sont donnés."
            : null;

        await StatusTableAsync(conn, asOf, scope, ct);

        var (bands, types, regions, departements, inside, outside) = await AggregatesAsync(conn, before, ct);
        // The headline IS the indicator layer's figure for the same date and scope (one definition).
        var set = await new Indicators.IndicatorQueries(db).ComputeAsync(new Indicators.IndicatorFilter(Date: asOf, Region: scope.RegionCode, Atd: scope.AtdId), ct);
        var headline = new Headline(set.Collectivites, set.Obliged, set.Open, set.ObligedOpen, set.ObligedOpenRate,
            set.PopulationInOpenCommunes, set.PopulationInOpenCommuneOrEpci, set.Population);
        var atds = await AtdRowsAsync(conn, scope, before, ct);
        var largest = before ? [] : await LargestTodoListsAsync(conn, ct);
        var todo = before ? new TodoList(0, [], TodoLimit) : await TodoAsync(conn, ct);
        var progress = await ProgressAsync(conn, asOf, scope, before ? null : (int?)headline.Open, ct);
        var sources = await SourcesAsync(conn, vintage, ct);
        var changes = await ChangesAsync(conn, asOf, first, request.Since, scope, ct);

        await tx.CommitAsync(ct);   // drops the temporary table
        return new ReportModel(asOf, scope, first, latest, before, notice, vintage, headline, progress,
            bands, types, regions, departements,
            new AtdNetwork(atds.Count, inside, outside, atds, largest), todo, changes, sources, MethodNotes(scope));
    }

    static async Task<ReportScope> ScopeAsync(NpgsqlConnection conn, ReportRequest r, CancellationToken ct)
    {
        string? regionName = null, atdName = null;
        if (r.Region is { } region)
        {
            await using var cmd = new NpgsqlCommand("select name from collectivite where type = 'REG' and code = $1", conn)
            { Parameters = { new() { Value = region } } };
            regionName = (string?)await cmd.ExecuteScalarAsync(ct)
                ?? throw new ReportInputException(400, "Région inconnue",
                    $"Aucune région n'a le code « {region} ». Utilisez le code INSEE de la région (ex. 53 pour la Bretagne).");
        }
        if (r.Atd is { } atd)
        {
            await using var cmd = new NpgsqlCommand("select name from atd where id = $1", conn) { Parameters = { new() { Value = atd } } };
            atdName = (string?)await cmd.ExecuteScalarAsync(ct)
                ?? throw new ReportInputException(404, "ATD inconnu",
                    $"Aucun ATD n'a l'identifiant « {atd} ». La liste des ATD est servie par /odata/Atds.");
        }
        return new ReportScope(r.Region, regionName, r.Atd, atdName);
    }

    /// <summary>
    /// report_status: one row per collectivité with its status on the date, whether an ATD perimeter
    /// covers it, and whether it is in the report's scope: the indicators' selection (national rule, région,
    /// ATD perimeter; <see cref="IndicatorQueries.SelectionPredicate"/>, its one definition), so that the
    /// collectivités d'outre-mer stay out as in the 101/18 counts. No ANALYZE: every later query scans it whole.
    /// </summary>
    static async Task StatusTableAsync(NpgsqlConnection conn, DateOnly asOf, ReportScope scope, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            create temp table report_status on commit drop as
            -- status_on of the migrations, the one place where the rule lives (latest observation day decides,
            -- same-day observations combine).
            with latest as (select st.collectivite_id, st.is_open as is_listed from status_on(@asOf) st)
            select c.id, c.siren, c.code, c.type, c.name, c.population, c.population_band,
                   c.region_code, c.departement_code, c.epci_siren, c.ept_siren, c.is_obliged,
                   coalesce(l.is_listed, false) as is_open,
                   exists (select 1 from atd_coverage ac where ac.collectivite_id = c.id) as covered,
                   {IndicatorQueries.SelectionPredicate} as in_scope,
                   t.rank as todo_rank   -- on the to-do list (SQL todo_on, the one definition), and its rank
              from collectivite c
              left join latest l on l.collectivite_id = c.id
              left join todo_on(@asOf) t on t.collectivite_id = c.id
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter("asOf", NpgsqlDbType.Date) { Value = asOf });
        IndicatorQueries.AddSelectionParameters(cmd, new IndicatorFilter(Region: scope.RegionCode, Atd: scope.AtdId));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    async Task<(List<BreakdownRow>, List<BreakdownRow>, List<BreakdownRow>, List<BreakdownRow>, CoverageFigures, CoverageFigures)>
        AggregatesAsync(NpgsqlConnection conn, bool before, CancellationToken ct)
    {
        // One pass, several groupings. Bands are for communes only (the eight bands are commune bands).
        const string sql = """
            with s as (select *, case when type = 'COM' then population_band end as band
                         from report_status where in_scope)
            select case when grouping(type) = 0 then 'type' when grouping(band) = 0 then 'band'
                        when grouping(region_code) = 0 then 'region' when grouping(departement_code) = 0 then 'departement'
                        else 'covered' end as dim,
                   coalesce(type, band, region_code, departement_code, covered::text) as key,
                   count(*) as collectivites,
                   count(*) filter (where is_obliged) as obliged,
                   count(*) filter (where is_open) as open,
                   count(*) filter (where is_obliged and is_open) as obliged_open,
                   case when grouping(s.region_code) = 0
                             then (select r.name from collectivite r where r.id in ('REG-' || s.region_code, 'COLOM-' || s.region_code) limit 1)
                        when grouping(s.departement_code) = 0
                             then (select d.name from collectivite d where d.id in ('DEP-' || s.departement_code, 'COLOM-' || s.departement_code) limit 1) end as label
              from s
             group by grouping sets ((type), (band), (region_code), (departement_code), (covered));
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        var bands = new Dictionary<string, BreakdownRow>();
        var types = new Dictionary<string, BreakdownRow>();
        var regions = new List<BreakdownRow>();
        var deps = new List<BreakdownRow>();
        CoverageFigures inside = new(0, 0, before ? null : 0, null), outside = inside;
        while (await rd.ReadAsync(ct))
        {
            var dim = rd.GetString(0);
            var key = rd.IsDBNull(1) ? null : rd.GetString(1);
            long n = rd.GetInt64(2), obliged = rd.GetInt64(3), open = rd.GetInt64(4), obligedOpen = rd.GetInt64(5);
            long? Status(long v) => before ? null : v;
            double? rate = before || obliged == 0 ? null : (double)obligedOpen / obliged;
            var label = rd.IsDBNull(6) ? null : rd.GetString(6);
            switch (dim)
            {
                case "covered":
                    var f = new CoverageFigures(n, obliged, Status(obligedOpen), rate);
                    if (key == "true") inside = f; else outside = f;
                    break;
                case var _ when key is null:
                    break;   // communes without band, collectivités without région/département (overseas collectivities)
                case "band":
                    bands[key] = new(key, key, n, obliged, Status(open), Status(obligedOpen), rate);
                    break;
                case "type":
                    types[key] = new(key, TypeLabels.GetValueOrDefault(key, key), n, obliged, Status(open), Status(obligedOpen), rate);
                    break;
                case "region":
                    regions.Add(new(key, label ?? key, n, obliged, Status(open), Status(obligedOpen), rate));
                    break;
                case "departement":
                    deps.Add(new(key, label ?? key, n, obliged, Status(open), Status(obligedOpen), rate));
                    break;
            }
        }

        // Fixed orders: bands ascending, types as the observatoire lists them, places by code.
        var bandRows = Reference.PopulationBands.All.Where(bands.ContainsKey).Select(b => bands[b]).ToList();
        var typeRows = TypeLabels.Keys.Where(types.ContainsKey).Select(t => types[t]).ToList();
        regions.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        deps.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return (bandRows, typeRows, regions, deps, inside, outside);
    }

    static async Task<List<AtdRow>> AtdRowsAsync(NpgsqlConnection conn, ReportScope scope, bool before, CancellationToken ct)
    {
        // An ATD appears when its perimeter meets the scope; its figures count only the part inside the scope.
        await using var cmd = new NpgsqlCommand("""
            select a.id, a.name, a.kind, a.scale,
                   count(s.id), count(s.id) filter (where s.is_obliged),
                   count(s.id) filter (where s.is_obliged and s.is_open),
                   count(s.id) filter (where s.todo_rank is not null)
              from atd a
              join atd_coverage ac on ac.atd_id = a.id
              join report_status s on s.id = ac.collectivite_id and s.in_scope
             where ($1::text is null or a.id = $1)
             group by a.id
             order by a.name, a.id
            """, conn)
        { Parameters = { new() { Value = (object?)scope.AtdId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text } } };
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<AtdRow>();
        while (await rd.ReadAsync(ct))
        {
            long obliged = rd.GetInt64(5), obligedOpen = rd.GetInt64(6);
            rows.Add(new AtdRow(rd.GetString(0), rd.GetString(1), rd.GetString(2), rd.IsDBNull(3) ? null : rd.GetString(3),
                rd.GetInt64(4), obliged, before ? null : obligedOpen,
                before || obliged == 0 ? null : (double)obligedOpen / obliged, before ? null : rd.GetInt64(7)));
        }
        return rows;
    }

    const string TodoColumns = "s.id, s.siren, s.code, s.type, s.name, s.population, s.departement_code";

    static TodoItem ReadTodo(NpgsqlDataReader rd, int o, string? atdIds) => new(
        rd.GetString(o), rd.IsDBNull(o + 1) ? null : rd.GetString(o + 1), rd.GetString(o + 2), rd.GetString(o + 3),
        rd.GetString(o + 4), rd.IsDBNull(o + 5) ? null : rd.GetInt32(o + 5), rd.IsDBNull(o + 6) ? null : rd.GetString(o + 6), atdIds);

    static async Task<List<AtdTodoSummary>> LargestTodoListsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            with todo as (
                select ac.atd_id, s.* from atd_coverage ac
                  join report_status s on s.id = ac.collectivite_id
                 where s.in_scope and s.todo_rank is not null),
            top_atd as (
                select atd_id, count(*) as n from todo group by atd_id
                 order by n desc, atd_id limit {TopAtds}),
            ranked as (
                select s.*, row_number() over (partition by s.atd_id order by s.todo_rank) as rk
                  from todo s where s.atd_id in (select atd_id from top_atd))
            select t.atd_id, a.name, t.n, {TodoColumns}
              from top_atd t join atd a on a.id = t.atd_id
              join ranked s on s.atd_id = t.atd_id and s.rk <= {TopItemsPerAtd}
             order by t.n desc, t.atd_id, s.rk
            """, conn);
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        var result = new List<AtdTodoSummary>();
        while (await rd.ReadAsync(ct))
        {
            var id = rd.GetString(0);
            if (result.Count == 0 || result[^1].AtdId != id)
                result.Add(new AtdTodoSummary(id, rd.GetString(1), rd.GetInt64(2), new List<TodoItem>()));
            ((List<TodoItem>)result[^1].TopItems).Add(ReadTodo(rd, 3, id));
        }
        return result;
    }

    static async Task<TodoList> TodoAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select count(*) from report_status s where s.in_scope and s.todo_rank is not null;
            select {TodoColumns},
                   (select string_agg(ac.atd_id, ' ' order by ac.atd_id) from atd_coverage ac where ac.collectivite_id = s.id)
              from report_status s
             where s.in_scope and s.todo_rank is not null
             order by s.todo_rank
             limit {TodoLimit};
            """, conn);
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        await rd.ReadAsync(ct);
        var total = rd.GetInt64(0);
        await rd.NextResultAsync(ct);
        var items = new List<TodoItem>();
        while (await rd.ReadAsync(ct))
            items.Add(ReadTodo(rd, 0, rd.IsDBNull(7) ? null : rd.GetString(7)));
        return new TodoList(total, items, TodoLimit);
    }

    /// <summary>The series of /api/progress for the report's scope, and its projection (national scope only).</summary>
    static async Task<ProgressSeries> ProgressAsync(NpgsqlConnection conn, DateOnly asOf, ReportScope scope, int? open, CancellationToken ct)
    {
        var points = await Indicators.ProgressQueries.SeriesAsync(conn, asOf, scope.RegionCode, scope.AtdId, ct);
        if (!scope.IsNational)
            return new(points, null, null, $"L'objectif de {Fr.Int(ReportModel.Goal)} collectivités ouvertes est national : pas de projection pour un périmètre.");
        var trend = Indicators.GoalProjection.Slope(points);
        var projection = Indicators.GoalProjection.Project(points, open, asOf);
        var text = projection switch
        {
            { Reached: true } => $"Objectif de {Fr.Int(ReportModel.Goal)} collectivités ouvertes atteint.",
            { Date: { } d } => $"Au rythme de la tendance (environ {Fr.Int((long)Math.Round(trend.PerYear ?? 0))} collectivités ouvertes de plus par an), "
                + $"l'objectif de {Fr.Int(ReportModel.Goal)} serait atteint vers {Fr.MonthYear(d)}. Méthode : {Indicators.GoalProjection.Method}.",
            _ => $"Projection vers {Fr.Int(ReportModel.Goal)} : {projection.Label}. Méthode : {Indicators.GoalProjection.Method}.",
        };
        return new(points, trend.PerYear, projection.Date, text);
    }

    /// <summary>
    /// « Changements »: from <paramref name="since"/>, or the latest directory snapshot strictly before the
    /// report's date, or the first observation; to the report's date. The list itself is
    /// <see cref="Indicators.ChangeQueries"/> (SQL changes_between, the one definition, the same as
    /// /api/changes) over the report's scope: its région and its ATD perimeter.
    /// </summary>
    async Task<ChangeSection> ChangesAsync(NpgsqlConnection conn, DateOnly asOf, DateOnly? first, DateOnly? since, ReportScope scope, CancellationToken ct)
    {
        var (from, rule) = (since, "since");
        if (from is null)
        {
            await using var cmd = new NpgsqlCommand("select max(observed_on) from status_snapshot where kind = 'directory' and observed_on < $1", conn)
            { Parameters = { new() { Value = asOf, NpgsqlDbType = NpgsqlDbType.Date } } };
            DateOnly? snapshot = await cmd.ExecuteScalarAsync(ct) switch
            {
                DateOnly d => d,
                DateTime t => DateOnly.FromDateTime(t),
                _ => null,
            };
            (from, rule) = snapshot is not null ? (snapshot, "snapshot")
                : first is { } f && f < asOf ? (f, "first-observation") : (null, "none");
        }
        if (from is not { } start)
            return new ChangeSection(null, asOf, rule, false, []);
        var items = await new Indicators.ChangeQueries(db).ListAsync(start, asOf,
            new Indicators.IndicatorFilter(Region: scope.RegionCode, Atd: scope.AtdId), ct);
        return new ChangeSection(start, asOf, rule, first is { } f0 && f0 <= start, items);
    }

    static async Task<List<SourceNote>> SourcesAsync(NpgsqlConnection conn, string? vintage, CancellationToken ct)
    {
        var observed = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            select source, min(observed_on), max(observed_on), count(*) from observation group by source order by 2, 1 limit 50
            """, conn))
        await using (var rd = await cmd.ExecuteReaderAsync(ct))
            while (await rd.ReadAsync(ct))
            {
                DateOnly a = rd.GetFieldValue<DateOnly>(1), b = rd.GetFieldValue<DateOnly>(2);
                observed.Add($"{rd.GetString(0)} ({(a == b ? Fr.Date(a) : $"{Fr.Date(a)} – {Fr.Date(b)}")}, {Fr.Int(rd.GetInt64(3))} observations)");
            }
        return
        [
            new("Code officiel géographique (COG) et populations légales", $"Collectivités, SIREN, populations, appartenance aux EPCI ({vintage ?? "COG 2026"})",
                "Licence Ouverte / Etalab 2.0", "INSEE, DGCL, via @etalab/decoupage-administratif"),
            new("IGN ADMIN EXPRESS", "Contours des communes, départements et régions", "Licence Ouverte / Etalab 2.0", "« IGN ADMIN EXPRESS, INSEE COG »"),
            new("Observatoire open data des territoires (OpenDataFrance)", "Annuaire des collectivités qui publient des données ouvertes, plateformes",
                "ODbL 1.0", "© OpenDataFrance" + (observed.Count > 0 ? " ; relevés chargés : " + string.Join(", ", observed) : " ; aucun relevé chargé")),
            new("Registre des ATD (OpenDataLocale)", "Animateurs territoriaux des données et leurs périmètres",
                "Licence Ouverte (codes) ; ODbL 1.0 (SIREN issus de l'annuaire OpenDataFrance)", "Dérivé des pages du programme OpenDataLocale"),
            new("Jalons publiés", "Nombre de collectivités ouvertes annoncé à chaque édition de l'observatoire",
                "Citations (source nommée pour chaque jalon)", "data/milestones.csv"),
        ];
    }

    static List<string> MethodNotes(ReportScope scope)
    {
        var notes = new List<string>
        {
            "Une collectivité est « ouverte » à une date quand sa dernière observation à cette date ou avant la montre publiant au moins un jeu de données (portail propre ou mutualisé, data.gouv.fr). Sans observation, elle compte comme non ouverte.",
            "Obligation (loi pour une République numérique, CRPA art. L.312-1-1) : collectivités de 3 500 habitants ou plus et de 50 agents ou plus. L'effectif est rarement connu : un effectif inconnu compte comme obligé. La liste des obligées est celle du référentiel chargé (millésime courant), appliquée à toutes les dates.",
            "Taux d'ouverture = collectivités obligées ouvertes / collectivités obligées.",
            "Les strates de population ne concernent que les communes (huit strates emboîtées dans les strates DGF, CGCT L.2334-3).",
            "Population des communes ouvertes : somme des populations légales des communes ouvertes. Population couverte : habitants des communes dont la commune, l'EPCI, l'EPT, le département ou la région est ouvert.",
            "Les jalons sont les chiffres publiés par l'observatoire à chaque édition, repris tels quels (leur périmètre peut différer) ; les points « observation » sont recalculés à partir des relevés chargés dans la base.",
            "Périmètre d'un ATD : sa région, son ou ses départements, les communes membres de son EPCI ou les communes qu'il accompagne. La comparaison dans / hors périmètre est descriptive : elle ne mesure pas à elle seule l'effet de l'accompagnement.",
        };
        if (!scope.IsNational)
            notes.Add("Les chiffres de ce rapport ne comptent que les collectivités du périmètre demandé ; les jalons nationaux ne sont pas repris.");
        return notes;
    }
}

/// <summary>French formatting shared by the renderers (thin spaces replaced by no-break spaces, which every font has).</summary>
public static class Fr
{
    public static readonly CultureInfo Culture = CreateCulture();

    static CultureInfo CreateCulture()
    {
        var c = (CultureInfo)CultureInfo.GetCultureInfo("fr-FR").Clone();
        c.NumberFormat.NumberGroupSeparator = "\u00a0";
        c.NumberFormat.PercentGroupSeparator = "\u00a0";
        return c;
    }

    public static string Int(long? v) => v is { } x ? x.ToString("#,0", Culture) : "—";
    public static string Percent(double? v) => v is { } x ? (x * 100).ToString("0.0", Culture) + "\u00a0%" : "—";
    public static string Date(DateOnly d) => d.Day == 1 ? d.ToString("'1er' MMMM yyyy", Culture) : d.ToString("d MMMM yyyy", Culture);
    public static string MonthYear(DateOnly d) => d.ToString("MMMM yyyy", Culture);
}
