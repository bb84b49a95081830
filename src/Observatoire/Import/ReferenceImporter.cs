using Observatoire.Data;
using System.Diagnostics;
using System.Text.Json;
using NetTopologySuite.Geometries;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Geometry;
using Observatoire.Reference;

namespace Observatoire.Import;

public sealed record ReferenceImportOptions(
    string CogDirectory, string CommunesGeo, string DepartementsGeo, string RegionsGeo, string Vintage, bool Force = false,
    bool DryRun = false, ImportGuardOptions? Guards = null)
{
    public static ReferenceImportOptions Bundled(string dataDir) => new(
        Path.Combine(dataDir, "cog-2026"),
        Path.Combine(dataDir, "geo", "communes-2018.geojson.gz"),
        Path.Combine(dataDir, "geo", "departements-2018.geojson.gz"),
        Path.Combine(dataDir, "geo", "regions-2018.geojson.gz"),
        "COG 2026");
}

/// <summary>
/// Loads the reference list and the boundaries: parses and validates every file first, then writes
/// everything in ONE transaction (binary COPY into temporary tables, set-based SQL from there), so a
/// bad file changes nothing and a second run with the same files leaves the same rows.
/// </summary>
public sealed class ReferenceImporter(NpgsqlDataSource db, TextWriter log)
{
    public async Task<JsonDocument> ImportAsync(ReferenceImportOptions o, CancellationToken ct = default)
    {
        var total = Stopwatch.StartNew();
        var inputFiles = new List<string>();

        Step("Lecture du référentiel des collectivités " + o.CogDirectory);
        var cog = CogReader.Read(o.CogDirectory);
        inputFiles.AddRange(cog.Files);
        Step("Lecture des contours " + o.CommunesGeo);
        var communesGeo = GeoJsonBoundaries.Read(o.CommunesGeo);
        Step("Lecture des contours " + o.DepartementsGeo);
        var depGeo = GeoJsonBoundaries.Read(o.DepartementsGeo);
        Step("Lecture des contours " + o.RegionsGeo);
        var regGeo = GeoJsonBoundaries.Read(o.RegionsGeo);
        inputFiles.AddRange([o.CommunesGeo, o.DepartementsGeo, o.RegionsGeo]);
        var checksum = ImportFiles.Checksum(inputFiles);

        await using var conn = await db.OpenConnectionAsync(ct);
        if (!o.Force && await LatestChecksum(conn, ct) == checksum)
        {
            log.WriteLine($"Référentiel {o.Vintage} déjà chargé avec ces fichiers (somme {checksum[..12]}) : rien à faire (--force pour recharger).");
            return JsonDocument.Parse("""{"skipped":true}""");
        }

        var rows = BuildRows(cog, o.Vintage);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await ImportGuards.CaptureAsync(conn, ct); // the state the guards compare against

        Step($"Écriture de {rows.Collectivites.Count:N0} collectivités et {rows.Former.Count:N0} anciennes communes (COPY binaire)");
        await conn.ExecAsync("""
            create temp table stage_collectivite (like collectivite including defaults) on commit drop;
            create temp table stage_former (like former_commune) on commit drop;
            create temp table stage_geo (level text not null, code text not null, geom geometry not null) on commit drop;
            """, ct);
        await CopyCollectivites(conn, rows.Collectivites, ct);
        await CopyFormer(conn, rows.Former, ct);

        Step($"Écriture de {communesGeo.Count + depGeo.Count + regGeo.Count:N0} contours (COPY binaire)");
        var boundaries = new[] { ("commune", communesGeo), ("departement", depGeo), ("region", regGeo) }
            .SelectMany(l => l.Item2.Select(b => (Level: l.Item1, b.Code, b.Geom)));
        await conn.CopyAsync("stage_geo", boundaries, ct,
            new("level", NpgsqlDbType.Text, b => b.Level), new("code", NpgsqlDbType.Text, b => b.Code), new("geom", NpgsqlDbType.Geometry, b => b.Geom));
        await conn.ExecAsync("create index on stage_geo (level, code); analyze stage_geo; analyze stage_collectivite;", ct);

        Step("Mise à jour des collectivités (ajouts, changements, retraits)");
        var cols = "siren, code, type, name, population, population_band, departement_code, region_code, epci_siren, ept_siren, zone, is_overseas_collectivity, member_count, has_geometry, search_name, vintage";
        // An existing row is rewritten only when one of its columns changed (a forced re-import of the same
        // files rewrote all 36,362 rows twice, bloating the table and its indexes), and never for
        // has_geometry, which the geometry step below sets (it was reset here, then set back there).
        var updated = cols.Split(", ").Where(c => c != "has_geometry").ToList();
        var set = string.Join(", ", updated.Select(c => $"{c} = excluded.{c}"));
        var changed = $"({string.Join(", ", updated.Select(c => "collectivite." + c))}) is distinct from ({string.Join(", ", updated.Select(c => "excluded." + c))})";
        await conn.ExecAsync($"""
            delete from collectivite c where not exists (select 1 from stage_collectivite s where s.id = c.id);
            insert into collectivite (id, {cols})
              select id, {cols.Replace("search_name", "search_key(name)").Replace("population_band", "population_band(population)")} from stage_collectivite
              on conflict (id) do update set {set} where {changed};
            select refresh_obligation();
            select refresh_national_figures();
            -- The former communes that changed only (most years: none).
            delete from former_commune f
             where not exists (select 1 from stage_former s where (s.code, s.kind, s.name, s.current_code) is not distinct from (f.code, f.kind, f.name, f.current_code));
            insert into former_commune select * from stage_former except select * from former_commune;
            -- Fresh statistics for the unions' joins (a first load into empty tables had none: 41 s instead of 23).
            analyze collectivite; analyze former_commune;
            """, ct);

        Step("Géométries : communes (par code, ou union des anciennes communes), EPCI et EPT (union des membres), départements, régions");
        var sw = Stopwatch.StartNew();
        await conn.ExecAsync(CommuneGeometrySql, ct);
        // Before the costly unions and simplification: a partial boundary file or a short list is refused here.
        await ImportGuards.CheckReferenceAsync(conn, log, o.Guards ?? new(), o.DryRun, ct);
        await conn.ExecAsync(GroupGeometrySql, ct);
        log.WriteLine($"    unions et réparations : {sw.Elapsed.TotalSeconds:F1} s");

        Step("Simplification par niveau de zoom (en couverture : les voisins gardent leurs frontières communes)");
        sw.Restart();
        await SimplifyAsync(conn, ct);
        log.WriteLine($"    simplification : {sw.Elapsed.TotalSeconds:F1} s");

        // Collectivité rows may have changed: re-derive matching, current status and ATD coverage.
        Step("Rapprochement des observations et couverture des ATD avec le nouveau référentiel");
        await Status.StatusMatching.RefreshAsync(conn, ct);
        await Atds.AtdCoverage.RefreshAsync(conn, ct);

        var report = await BuildReport(conn, o, checksum, ct);
        await using (var cmd = new NpgsqlCommand("insert into data_release (kind, vintage, checksum, report) values ('reference', $1, $2, $3::jsonb)", conn, tx))
        {
            cmd.Parameters.AddWithValue(o.Vintage);
            cmd.Parameters.AddWithValue(checksum);
            cmd.Parameters.AddWithValue(report.RootElement.GetRawText());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (o.DryRun)
        {
            await tx.RollbackAsync(ct);
            PrintReport(report, total.Elapsed);
            log.WriteLine("Essai à blanc (--essai) : rien n'a été écrit.");
            return report;
        }
        await tx.CommitAsync(ct);
        // VACUUM (outside the transaction) also sets the visibility map, so counts use index-only scans.
        // One statement per command: VACUUM refuses to run inside a (multi-statement) transaction.
        foreach (var table in new[] { "collectivite", "collectivite_geometry", "former_commune" })
            await conn.ExecAsync($"vacuum (analyze) {table}", ct);
        PrintReport(report, total.Elapsed);
        return report;
    }

    void Step(string s) => log.WriteLine("  → " + s + "…");

    static async Task<string?> LatestChecksum(NpgsqlConnection c, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select checksum from data_release where kind = 'reference' order by id desc limit 1", c);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    // ---- rows --------------------------------------------------------------------------------

    internal sealed record Row(
        string Id, string? Siren, string Code, string Type, string Name, int? Population, string? DepartementCode,
        string? RegionCode, string? EpciSiren, string? EptSiren, string Zone, bool Overseas, int? MemberCount, string Vintage);
    internal sealed record Former(string Code, string Kind, string? Name, string CurrentCode);
    internal sealed record Rows(List<Row> Collectivites, List<Former> Former);

    static readonly Dictionary<string, string> EpciTypes = new()
    {
        ["CC"] = "CC", ["CA"] = "CA", ["CU"] = "CU", ["METRO"] = "MET", ["MET69"] = "MET", ["MET"] = "MET",
    };

    internal static Rows BuildRows(CogReader.CogData cog, string vintage)
    {
        var communes = cog.Communes.Where(c => c.Type == "commune-actuelle").ToList();
        var epciOf = new Dictionary<string, string>();
        foreach (var e in cog.Epci) foreach (var m in e.Membres) epciOf[m.Code] = e.Code;
        var eptOf = new Dictionary<string, string>();
        foreach (var e in cog.Ept) foreach (var m in e.Membres) eptOf[m.Code] = e.Code;
        var byCode = communes.ToDictionary(c => c.Code);

        var rows = new List<Row>(communes.Count + 2000);
        foreach (var c in communes)
            rows.Add(new Row("COM-" + c.Code, Blank(c.Siren), c.Code, "COM", c.Nom, c.Population, c.Departement, c.Region,
                epciOf.GetValueOrDefault(c.Code), eptOf.GetValueOrDefault(c.Code), c.Zone ?? "metro", c.Zone == "com", null, vintage));

        // Groupements: population = sum of the member communes of this vintage (the list's own EPCI
        // population comes from another census year); département/région = where most inhabitants live.
        void Groupement(CogReader.GroupementJson g, string idPrefix, string type)
        {
            var members = g.Membres.Select(m => byCode.GetValueOrDefault(m.Code)).OfType<CogReader.CommuneJson>().ToList();
            if (members.Count != g.Membres.Count)
                throw new ImportException($"Le groupement « {g.Nom} » ({g.Code}) a des membres absents de communes.json.");
            var main = members.OrderByDescending(m => m.Population ?? 0).ThenBy(m => m.Code, StringComparer.Ordinal).First();
            var dep = members.GroupBy(m => m.Departement).OrderByDescending(x => x.Sum(m => (long)(m.Population ?? 0))).ThenBy(x => x.Key).First().Key;
            var reg = members.GroupBy(m => m.Region).OrderByDescending(x => x.Sum(m => (long)(m.Population ?? 0))).ThenBy(x => x.Key).First().Key;
            rows.Add(new Row(idPrefix + g.Code, g.Code, g.Code, type, g.Nom, SumOrNull(members), dep, reg, null, null,
                main.Zone ?? "metro", main.Zone == "com", members.Count, vintage));
        }
        foreach (var e in cog.Epci)
            Groupement(e, "EPCI-", EpciTypes.TryGetValue(e.Type, out var t) ? t
                : throw new ImportException($"epci.json : type de groupement inconnu « {e.Type} » pour {e.Nom} ({e.Code})."));
        foreach (var e in cog.Ept) Groupement(e, "EPT-", "EPT");

        foreach (var d in cog.Departements)
        {
            var members = communes.Where(c => c.Departement == d.Code).ToList();
            var overseas = d.Zone == "com";
            rows.Add(new Row((overseas ? "COLOM-" : "DEP-") + d.Code, null, d.Code, overseas ? "COLOM" : "DEP", d.Nom, SumOrNull(members),
                d.Code, overseas ? d.Code : d.Region, null, null, d.Zone ?? "metro", overseas, members.Count, vintage));
        }
        // The collectivités d'outre-mer appear in both departements.json and regions.json: one row (COLOM).
        foreach (var r in cog.Regions.Where(r => r.Zone != "com"))
        {
            var members = communes.Where(c => c.Region == r.Code).ToList();
            rows.Add(new Row("REG-" + r.Code, null, r.Code, "REG", r.Nom, SumOrNull(members), null, r.Code, null, null,
                r.Zone ?? "metro", false, members.Count, vintage));
        }

        var former = new List<Former>();
        foreach (var c in cog.Communes.Where(c => c.Type is "commune-deleguee" or "commune-associee"))
            if (c.ChefLieu is { } chef) former.Add(new Former(c.Code, c.Type, c.Nom, chef));
        var formerNames = cog.Communes.Where(c => c.Type != "commune-actuelle").GroupBy(c => c.Code).ToDictionary(g => g.Key, g => g.First().Nom);
        foreach (var c in communes)
            foreach (var a in c.AnciensCodes ?? [])
                former.Add(new Former(a, "ancien-code", formerNames.GetValueOrDefault(a), c.Code));
        return new Rows(rows, former);
    }

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    static int? SumOrNull(List<CogReader.CommuneJson> members) =>
        members.Any(m => m.Population is not null) ? checked((int)members.Sum(m => (long)(m.Population ?? 0))) : null;

    static Task CopyCollectivites(NpgsqlConnection conn, List<Row> rows, CancellationToken ct) =>
        conn.CopyAsync("stage_collectivite", rows, ct,
            new("id", NpgsqlDbType.Text, r => r.Id), new("siren", NpgsqlDbType.Char, r => r.Siren),
            new("code", NpgsqlDbType.Text, r => r.Code), new("type", NpgsqlDbType.Text, r => r.Type),
            new("name", NpgsqlDbType.Text, r => r.Name), new("population", NpgsqlDbType.Integer, r => r.Population),
            new("departement_code", NpgsqlDbType.Text, r => r.DepartementCode), new("region_code", NpgsqlDbType.Text, r => r.RegionCode),
            new("epci_siren", NpgsqlDbType.Char, r => r.EpciSiren), new("ept_siren", NpgsqlDbType.Char, r => r.EptSiren),
            new("zone", NpgsqlDbType.Text, r => r.Zone), new("is_overseas_collectivity", NpgsqlDbType.Boolean, r => r.Overseas),
            new("member_count", NpgsqlDbType.Integer, r => r.MemberCount), new("vintage", NpgsqlDbType.Text, r => r.Vintage),
            new("search_name", NpgsqlDbType.Text, _ => ""));   // not null; the insert into collectivite computes it (search_key)
    // population_band, is_obliged and has_geometry are left to their defaults here: the insert into
    // collectivite derives the band (population_band()), the rules set the others.

    static Task CopyFormer(NpgsqlConnection conn, List<Former> rows, CancellationToken ct) =>
        conn.CopyAsync("stage_former", rows, ct,
            new("code", NpgsqlDbType.Text, r => r.Code), new("kind", NpgsqlDbType.Text, r => r.Kind),
            new("name", NpgsqlDbType.Text, r => r.Name), new("current_code", NpgsqlDbType.Text, r => r.CurrentCode));


    // ---- geometry -------------------------------------------------------------------------------

    /// An invalid shape repaired by ST_MakeValid, keeping its polygons only (a repair can leave lines or
    /// points where a ring touched itself).
    static string Repaired(string geometry) => $"st_multi(st_collectionextract(st_makevalid({geometry}), 3))";

    /// A current commune's extent = union of the 2018 polygons of its own code and of its former codes
    /// (a commune nouvelle formed after 2018), leaving out codes that are themselves current communes.
    /// EPCI/EPT = union of their members; DEP/REG from their own files. Invalid results are repaired
    /// with ST_MakeValid and flagged. The shapes stay in work_geom until SimplifyAsync has their
    /// simplified forms: collectivite_geometry is then written once (WriteGeometrySql). The communes come
    /// first (CommuneGeometrySql), so that the guards judge their coverage before the unions are paid for.
    static readonly string CommuneGeometrySql = $"""
        create temp table work_geom on commit drop as
        with parts as (
            select c.id, c.code as part from collectivite c where c.type = 'COM'
            union
            select c.id, f.code from collectivite c
              join former_commune f on f.current_code = c.code and f.kind = 'ancien-code'
             where c.type = 'COM'
               and not exists (select 1 from collectivite o where o.type = 'COM' and o.code = f.code and o.id <> c.id)
        )
        select p.id,
               case when count(*) = 1 then 'fichier' else 'union-anciens-codes' end as source,
               case when count(*) = 1 then st_multi((array_agg(g.geom))[1])
                    else st_multi(st_union(g.geom)) end as geom
          from parts p join stage_geo g on g.level = 'commune' and g.code = p.part
         group by p.id;

        alter table work_geom add column repaired boolean not null default false;
        update work_geom set geom = {Repaired("geom")}, repaired = true
         where not st_isvalid(geom);
        delete from work_geom where st_isempty(geom);
        create unique index on work_geom (id);
        analyze work_geom;

        update collectivite c set has_geometry = exists (select 1 from work_geom w where w.id = c.id)
         where c.type = 'COM' and has_geometry is distinct from exists (select 1 from work_geom w where w.id = c.id);
        """;

    static readonly string GroupGeometrySql = $"""
        -- Members of an EPCI and of an EPT in two joins: one join on "epci or ept" could only be a nested loop
        -- (44 million comparisons, 12 s of the 22 s this statement took).
        create temp table work_group on commit drop as
        select g.id, 'union-membres' as source, st_multi(st_union(w.geom)) as geom
          from (select c.id, m.id as member from collectivite c join collectivite m on m.type = 'COM' and m.epci_siren = c.siren
                 where c.type = any(epci_types())
                union all
                select c.id, m.id from collectivite c join collectivite m on m.type = 'COM' and m.ept_siren = c.siren
                 where c.type = 'EPT') g
          join work_geom w on w.id = g.member
         group by g.id;

        insert into work_group
        select c.id, 'fichier', st_multi(g.geom)
          from collectivite c join stage_geo g
            on (c.type = 'DEP' and g.level = 'departement' and g.code = c.code)
            or (c.type = 'REG' and g.level = 'region' and g.code = c.code);

        insert into work_geom (id, source, geom, repaired)
        select id, source, case when valid then geom else {Repaired("geom")} end, not valid
          from work_group cross join lateral (select st_isvalid(geom) as valid) v;
        delete from work_geom where st_isempty(geom);
        analyze work_geom;

        update collectivite c set has_geometry = exists (select 1 from work_geom w where w.id = c.id)
         where c.type <> 'COM' and has_geometry is distinct from exists (select 1 from work_geom w where w.id = c.id);
        """;

    /// Each level is a coverage of its own (communes; EPCI; EPT; départements; régions).
    static readonly (string Level, string Types)[] CoverageLevels =
    [
        ("communes", "'COM'"), ("EPCI", "select unnest(epci_types())"), ("EPT", "'EPT'"), ("départements", "'DEP'"), ("régions", "'REG'"),
    ];

    async Task SimplifyAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await conn.ExecAsync("create temp table stage_simplified (id text primary key, geom_mid geometry, geom_low geometry) on commit drop", ct);
        foreach (var (level, types) in CoverageLevels)
        {
            var ids = new List<string>();
            var geoms = new List<NetTopologySuite.Geometries.Geometry>();
            await using (var cmd = new NpgsqlCommand($"""
                select w.id, w.geom from work_geom w join collectivite c on c.id = w.id
                 where c.type in ({types}) order by w.id
                """, conn))
            await using (var rd = await cmd.ExecuteReaderAsync(ct))
                while (await rd.ReadAsync(ct))
                {
                    ids.Add(rd.GetString(0));
                    geoms.Add(rd.GetFieldValue<NetTopologySuite.Geometries.Geometry>(1));
                }
            var sw = Stopwatch.StartNew();
            var mid = CoverageSimplifier.Simplify(geoms, ZoomBands.MidTolerance);
            var low = CoverageSimplifier.Simplify(geoms, ZoomBands.LowTolerance);
            log.WriteLine($"    {level} : {ids.Count:N0} géométries, {geoms.Sum(g => (long)g.NumPoints):N0} → {mid.Sum(g => (long)g.NumPoints):N0} (moyen) → {low.Sum(g => (long)g.NumPoints):N0} (bas) sommets, {sw.Elapsed.TotalSeconds:F1} s");
            await conn.CopyAsync("stage_simplified", Enumerable.Range(0, ids.Count), ct,
                new("id", NpgsqlDbType.Text, i => ids[i]), new("geom_mid", NpgsqlDbType.Geometry, i => mid[i]), new("geom_low", NpgsqlDbType.Geometry, i => low[i]));
        }
        await conn.ExecAsync(WriteGeometrySql, ct);
    }

    static readonly string Grid = ZoomBands.LowGrid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// Each row of collectivite_geometry is written once, and only when it changed: a geometry table
    /// rewritten by successive UPDATEs kept three dead copies of every shape (a 120 MB table on
    /// 460 MB of disk), and a forced re-import of the same files now writes no geometry at all.
    static readonly string WriteGeometrySql = $"""
        create temp table work_final on commit drop as
        select id, geom, source, repaired, geom_mid,
               -- A part too small for the grid keeps its unsnapped shape rather than vanishing.
               case when st_isempty(snapped_low) then geom_low else snapped_low end as geom_low
          from (select w.id, w.geom, w.source, w.repaired, m.geom_mid, l.geom_low,
                       -- geom_low on the grid of its GeoJSON output (ZoomBands.LowGrid). An invalid snapped
                       -- shape is repaired, then snap-rounded back onto the grid: ST_MakeValid's new
                       -- crossing points fall between the grid's nodes.
                       case when st_isvalid(g.v) then st_multi(g.v)
                            else st_multi(st_collectionextract(st_reduceprecision(st_makevalid(g.v), {Grid}), 3)) end as snapped_low
                  from work_geom w
                  left join stage_simplified x on x.id = w.id
                  -- Simplification can make a ring touch itself: repair, keeping polygons only.
                  cross join lateral (select coalesce(x.geom_mid, w.geom) as raw_mid, coalesce(x.geom_low, w.geom) as raw_low) r
                  cross join lateral (select case when st_isvalid(r.raw_mid) then st_multi(r.raw_mid)
                                                  else {Repaired("r.raw_mid")} end as geom_mid) m
                  cross join lateral (select case when st_isvalid(r.raw_low) then st_multi(r.raw_low)
                                                  else {Repaired("r.raw_low")} end as geom_low) l
                  cross join lateral (select st_snaptogrid(l.geom_low, {Grid}) as v) g) q;

        delete from collectivite_geometry g where not exists (select 1 from work_final f where f.id = g.collectivite_id);
        insert into collectivite_geometry (collectivite_id, geom, geom_mid, geom_low, label_point, source, repaired)
        select id, geom, geom_mid, geom_low, st_pointonsurface(geom), source, repaired from work_final
            on conflict (collectivite_id) do update
           set geom = excluded.geom, geom_mid = excluded.geom_mid, geom_low = excluded.geom_low,
               label_point = excluded.label_point, source = excluded.source, repaired = excluded.repaired
         where (collectivite_geometry.geom, collectivite_geometry.geom_mid, collectivite_geometry.geom_low,
                collectivite_geometry.source, collectivite_geometry.repaired)
               is distinct from (excluded.geom, excluded.geom_mid, excluded.geom_low, excluded.source, excluded.repaired);
        """;

    // ---- report ---------------------------------------------------------------------------------

    static async Task<JsonDocument> BuildReport(NpgsqlConnection conn, ReferenceImportOptions o, string checksum, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            select jsonb_build_object(
              'vintage', $1::text, 'checksum', $2::text,
              'counts', (select jsonb_object_agg(type, n) from (select type, count(*) n from collectivite group by type) t),
              'overseasFlagged', (select count(*) from collectivite where is_overseas_collectivity),
              'formerCommunes', (select count(*) from former_commune),
              'geometry', jsonb_build_object(
                 'fromFile', (select count(*) from collectivite_geometry where source = 'fichier'),
                 'unionOfFormerCommunes', (select count(*) from collectivite_geometry where source = 'union-anciens-codes'),
                 'unionOfMembers', (select count(*) from collectivite_geometry where source = 'union-membres'),
                 'repaired', (select count(*) from collectivite_geometry where repaired),
                 'missing', (select count(*) from collectivite where not has_geometry),
                 'missingCommunes', (select coalesce(jsonb_agg(code || ' ' || name order by code), '[]') from collectivite where type = 'COM' and not has_geometry)))
            """, conn);
        cmd.Parameters.AddWithValue(o.Vintage);
        cmd.Parameters.AddWithValue(checksum);
        return JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync(ct))!);
    }

    void PrintReport(JsonDocument report, TimeSpan elapsed)
    {
        var r = report.RootElement;
        log.WriteLine($"Référentiel {r.GetProperty("vintage").GetString()} chargé en {elapsed.TotalSeconds:F1} s :");
        foreach (var p in r.GetProperty("counts").EnumerateObject().OrderBy(p => p.Name))
            log.WriteLine($"    {p.Name,-6} {p.Value.GetInt32(),7:N0}");
        log.WriteLine($"    dont collectivités d'outre-mer (signalées, hors décomptes) : {r.GetProperty("overseasFlagged").GetInt32():N0}");
        var g = r.GetProperty("geometry");
        log.WriteLine($"  Géométries : {g.GetProperty("fromFile").GetInt32():N0} du fichier, {g.GetProperty("unionOfFormerCommunes").GetInt32():N0} unions d'anciennes communes, "
            + $"{g.GetProperty("unionOfMembers").GetInt32():N0} unions de membres (EPCI/EPT), {g.GetProperty("repaired").GetInt32():N0} réparées, {g.GetProperty("missing").GetInt32():N0} sans géométrie");
        var missing = g.GetProperty("missingCommunes").EnumerateArray().Select(x => x.GetString()).ToList();
        if (missing.Count > 0)
            log.WriteLine($"  Communes sans géométrie ({missing.Count}, gardées et signalées) : {string.Join(", ", missing.Take(12))}{(missing.Count > 12 ? ", …" : "")}");
    }
}
