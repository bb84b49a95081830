using System.Data;
using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using Observatoire.Api;
using Observatoire.Geometry;
using Observatoire.Map;

namespace Observatoire.Geo;

/// <summary>
/// <c>GET /api/geo/{level}</c>: RFC 7946 FeatureCollections built entirely by PostGIS (one statement,
/// <c>json_agg</c> + <c>ST_AsGeoJSON</c>) and streamed to the client without being parsed here.
///
/// Levels and what their figures count:
/// <list type="bullet">
/// <item><c>regions</c>, <c>departements</c>, <c>epci</c>, <c>atd</c> are areas. Their <c>count</c>,
/// <c>open</c>, <c>obliged</c>, <c>obligedOpen</c>, <c>rate</c> and <c>datasets</c> are over the
/// collectivités counted in the area: for a région, every collectivité whose <c>region_code</c> is
/// the région's (its communes, the EPCI and départements seated there, the région itself); for a
/// département, those whose <c>departement_code</c> is the département's (communes, EPCI seated there,
/// the département itself); for an EPCI or EPT, its member communes and itself; for an ATD, the
/// collectivités its perimeter covers (<c>atd_coverage</c>). Every filter (type, band, obliged, open,
/// atd, région, département) restricts the collectivités counted; with a région or département
/// filter, only the areas holding such collectivités are returned.</item>
/// <item><c>communes</c> are the collectivités themselves: the filters select them, <c>open</c>,
/// <c>obliged</c>, <c>obligedOpen</c> are the commune's own status (booleans), and a bbox is required.</item>
/// </list>
/// Geometry: the pre-simplified column of <see cref="ZoomBands"/> for <c>zoom</c>, exterior rings
/// counter-clockwise (RFC 7946 §3.1.6), coordinates with 3 decimals for geom_low (which the import
/// snaps to that grid and keeps valid: <see cref="ZoomBands.LowGrid"/>) and 5 (~1 m) otherwise.
/// </summary>
public static class GeoEndpoints
{
    public static readonly string[] Levels = ["regions", "departements", "epci", "communes", "atd"];

    public static IEndpointRouteBuilder MapGeo(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/geo/{level}", Handle).CacheOutput(MapCache.Policy).WithName("GeoJson");
        return app;
    }

    static async Task<IResult> Handle(string level, HttpContext http, NpgsqlDataSource db, IOptions<MapOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        if (!Levels.Contains(level))
            return Problems.Of(404, "Niveau inconnu", $"« {level} » n'est pas un niveau de la carte. Niveaux : {string.Join(", ", Levels)}.");
        var q = http.Request.Query;
        var p = new QueryParameters(q);
        var zoom = p.Int("zoom", 0, o.MaxZoom) ?? 6;
        double[]? bbox = null;
        if (q.TryGetValue("bbox", out var b) && !string.IsNullOrWhiteSpace(b))
        {
            bbox = ParseBbox(b.ToString());
            if (bbox is null)
                return Problems.Of(400, "Emprise invalide",
                    "« bbox » attend minLon,minLat,maxLon,maxLat en degrés (WGS 84), ex. bbox=-1.8,47.9,-1.5,48.2.");
        }
        var filters = MapFilters.Parse(p);
        if (!p.IsValid) return p.Problem();

        var column = ZoomBands.ColumnFor(zoom);
        if (level == "communes")
        {
            if (bbox is null)
                return Problems.Of(400, "Emprise requise",
                    "Les communes ne sont servies que par emprise : ajoutez bbox=minLon,minLat,maxLon,maxLat (ou utilisez les tuiles /tiles/communes/{z}/{x}/{y}.pbf).");
            var maxArea = column switch { "geom" => o.CommuneBboxMaxAreaFull, "geom_mid" => o.CommuneBboxMaxAreaMid, _ => o.CommuneBboxMaxAreaLow };
            var area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]);
            if (area > maxArea)
                return Problems.Of(400, "Emprise trop grande",
                    $"Au zoom {zoom}, l'emprise des communes est limitée à {maxArea.ToString(CultureInfo.InvariantCulture)} degrés carrés (demandé : {area.ToString("0.##", CultureInfo.InvariantCulture)}). Réduisez la bbox ou le zoom.");
        }

        if (await MapCache.NotModifiedAsync(http, ct)) return Results.Empty;

        await using var cmd = db.CreateCommand();
        var digits = column == "geom_low" ? ZoomBands.LowDecimals : 5;
        cmd.Parameters.Add(new NpgsqlParameter<int>("digits", digits));
        var cap = level == "communes" ? o.CommuneFeatureCap : 5000;
        cmd.Parameters.Add(new NpgsqlParameter<int>("cap", cap));
        var bboxSql = "";
        if (bbox is not null)
        {
            bboxSql = $" and g.{column} && ST_MakeEnvelope(@minx, @miny, @maxx, @maxy, 4326)";
            cmd.Parameters.Add(new NpgsqlParameter<double>("minx", bbox[0]));
            cmd.Parameters.Add(new NpgsqlParameter<double>("miny", bbox[1]));
            cmd.Parameters.Add(new NpgsqlParameter<double>("maxx", bbox[2]));
            cmd.Parameters.Add(new NpgsqlParameter<double>("maxy", bbox[3]));
        }
        cmd.CommandText = level switch
        {
            "communes" => CommunesSql(filters, column, bboxSql, cmd),
            "atd" => AtdSql(filters, zoom, bbox, cmd),
            _ => AreasSql(level, filters, column, bboxSql, cmd),
        };

        await using var rd = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        await rd.ReadAsync(ct);
        var n = rd.GetInt64(0);
        if (n > cap)
        {
            http.Response.Headers.Remove("ETag");
            http.Response.Headers.CacheControl = "no-store";
            return Problems.Of(400, "Trop d'entités",
                $"Plus de {cap} entités dans cette emprise : réduisez la bbox, ajoutez un filtre ou utilisez les tuiles vectorielles.");
        }
        http.Response.ContentType = "application/geo+json; charset=utf-8";
        await using var body = rd.GetStream(1);
        await body.CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }

    /// <summary>Areas (régions, départements, EPCI/EPT): counts over the collectivités inside, see the class summary.</summary>
    static string AreasSql(string level, MapFilters f, string column, string bboxSql, NpgsqlCommand cmd)
    {
        var (join, open, datasets) = f.Status("c", cmd);
        var members = f.MemberPredicate("c", open, cmd) + f.AreaPredicate("c", cmd);
        var (featureWhere, memberRows, featureKey) = level switch
        {
            "regions" => ("f.type = 'REG'",
                $"select c.region_code as k, {open} as is_open, c.is_obliged, {datasets} as datasets from collectivite c {join} where c.region_code is not null and c.type <> 'COLOM' {members}",
                "f.code"),
            "departements" => ("f.type = 'DEP'",
                $"select c.departement_code as k, {open} as is_open, c.is_obliged, {datasets} as datasets from collectivite c {join} where c.departement_code is not null and c.type not in ('REG', 'COLOM') {members}",
                "f.code"),
            _ => ($"f.type = any(groupement_types())",
                // A commune counts in its EPCI and, in the Grand Paris, in its EPT too; an EPCI counts in itself.
                $"""
                select v.k, {open} as is_open, c.is_obliged, {datasets} as datasets from collectivite c {join}
                  cross join lateral (values (c.epci_siren::text), (c.ept_siren::text),
                                             (case when c.type = any(groupement_types()) then c.siren::text end)) v(k)
                 where v.k is not null {members}
                """,
                "f.siren::text"),
        };
        // With an area filter, only the areas holding counted collectivités are features.
        var agg = f.Region is not null || f.Departement is not null ? "join" : "left join";
        return $"""
            with m as ({memberRows}),
            agg as (
                select k, count(*) as n, count(*) filter (where is_open) as open, count(*) filter (where is_obliged) as obliged,
                       count(*) filter (where is_open and is_obliged) as obliged_open, sum(datasets) as datasets
                  from m group by k),
            sel as (
                select f.id, f.code, f.name, f.type, f.population, f.population_band, f.atd_count, {GeoJson(column)} as geojson,
                       coalesce(a.n, 0) as n, coalesce(a.open, 0) as open, coalesce(a.obliged, 0) as obliged,
                       coalesce(a.obliged_open, 0) as obliged_open, a.datasets
                  from collectivite f
                  join collectivite_geometry g on g.collectivite_id = f.id
                  {agg} agg a on a.k = {featureKey}
                 where {featureWhere} {bboxSql}
                 limit @cap + 1)
            {Collection(Properties.Area, "sel.code")}
            """;
    }

    /// <summary>Communes themselves, selected by the filters; a bbox is always present (checked by the caller).</summary>
    static string CommunesSql(MapFilters f, string column, string bboxSql, NpgsqlCommand cmd)
    {
        var (join, open, datasets) = f.Status("c", cmd);
        var where = f.MemberPredicate("c", open, cmd) + f.AreaPredicate("c", cmd);
        return $"""
            with sel as (
                select c.id, c.code, c.name, c.type, c.population, c.population_band, c.is_obliged, c.atd_count,
                       c.epci_siren, c.departement_code, {open} as is_open, {datasets} as datasets, {GeoJson(column)} as geojson
                  from collectivite c
                  join collectivite_geometry g on g.collectivite_id = c.id
                  {join}
                 where c.type = 'COM' {where} {bboxSql}
                 limit @cap + 1)
            {Collection(Properties.Commune, "sel.code")}
            """;
    }

    /// <summary>
    /// ATD perimeters (the union stored by the ATD import, simplified here to the zoom band's tolerance:
    /// 55 rows, so simplifying per request is cheap and the answer is cached), with the figures of the
    /// collectivités each covers.
    /// </summary>
    static string AtdSql(MapFilters f, int zoom, double[]? bbox, NpgsqlCommand cmd)
    {
        var (join, open, _) = f.Status("c", cmd);
        var members = f.MemberPredicate("c", open, cmd) + f.AreaPredicate("c", cmd);
        var tolerance = zoom <= ZoomBands.LowMaxZoom ? ZoomBands.LowTolerance : zoom <= ZoomBands.MidMaxZoom ? ZoomBands.MidTolerance : 0;
        cmd.Parameters.Add(new NpgsqlParameter<double>("tol", tolerance));
        var bboxSql = bbox is null ? "" : " and t.perimeter && ST_MakeEnvelope(@minx, @miny, @maxx, @maxy, 4326)";
        var agg = f.Region is not null || f.Departement is not null ? "join" : "left join";
        return $"""
            with agg as (
                select ac.atd_id as k, count(*) as n, count(*) filter (where {open}) as open, count(*) filter (where c.is_obliged) as obliged,
                       count(*) filter (where {open} and c.is_obliged) as obliged_open
                  from atd_coverage ac join collectivite c on c.id = ac.collectivite_id {join}
                 where true {members}
                 group by ac.atd_id),
            sel as (
                select t.id, t.name, t.kind, t.scale, ST_AsGeoJSON(ST_ForcePolygonCCW(ST_SimplifyPreserveTopology(t.perimeter, @tol)), @digits) as geojson,
                       coalesce(a.n, 0) as n, coalesce(a.open, 0) as open, coalesce(a.obliged, 0) as obliged, coalesce(a.obliged_open, 0) as obliged_open
                  from atd t {agg} agg a on a.k = t.id
                 where t.perimeter is not null {bboxSql}
                 limit @cap + 1)
            {Collection(Properties.Atd, "sel.id")}
            """;
    }

    /// <summary>
    /// Feature properties per kind of level (SQL select lists over the row <c>sel</c>). The collectivité
    /// id (COM-35238, DEP-35…) is the feature's <c>id</c>, not repeated here: the départements at
    /// national zoom must stay under 250 KB.
    /// </summary>
    static class Properties
    {
        public const string Area = """
                sel.code, sel.name, sel.type, sel.population, sel.population_band as band,
                sel.n as count, sel.open, sel.obliged, sel.obliged_open as "obligedOpen",
                case when sel.obliged > 0 then round(sel.obliged_open::numeric / sel.obliged, 4) end as rate,
                sel.datasets, sel.atd_count as "atdCount"
            """;
        public const string Commune = """
                sel.code, sel.name, sel.type, sel.population, sel.population_band as band,
                sel.is_open as open, sel.is_obliged as obliged, sel.is_open and sel.is_obliged as "obligedOpen",
                case when sel.is_obliged then case when sel.is_open then 1 else 0 end end as rate,
                case when sel.is_open then 'open' when sel.is_obliged then 'obliged' else 'other' end as status,
                sel.datasets, sel.atd_count as "atdCount", sel.epci_siren as epci, sel.departement_code as departement
            """;
        public const string Atd = """
                sel.id as code, sel.name, 'ATD' as type, sel.kind, sel.scale,
                sel.n as count, sel.open, sel.obliged, sel.obliged_open as "obligedOpen",
                case when sel.obliged > 0 then round(sel.obliged_open::numeric / sel.obliged, 4) end as rate
            """;
    }

    /// <summary>
    /// The FeatureCollection as text, from the rows of <c>sel</c> (id, geojson, properties): assembled by
    /// concatenation so the geometry text of ST_AsGeoJSON is never re-parsed, and properties through
    /// row_to_json, whose output has no whitespace. Nothing at all is built when the cap is exceeded.
    /// </summary>
    static string Collection(string properties, string orderBy) => $$"""
        select (select count(*) from sel),
               '{"type":"FeatureCollection","features":[' || coalesce(string_agg(
                   '{"type":"Feature","id":' || to_json(sel.id)::text
                   || ',"geometry":' || sel.geojson
                   || ',"properties":' || (select row_to_json(p) from (select {{properties}}) p)::text || '}',
                   ',' order by {{orderBy}}), '') || ']}'
          from sel where (select count(*) from sel) <= @cap
        """;

    /// <summary>
    /// The geometry's GeoJSON text for a band: the two simplified bands are written once at import
    /// (generated columns of migration 005, same decimals as <c>@digits</c>), the full one here.
    /// </summary>
    static string GeoJson(string column) => column switch
    {
        "geom_low" => "g.geojson_low",
        "geom_mid" => "g.geojson_mid",
        _ => $"ST_AsGeoJSON(ST_ForcePolygonCCW(g.{column}), @digits)",
    };

    /// <summary>minLon,minLat,maxLon,maxLat within WGS 84 bounds, min &lt; max; null when malformed.</summary>
    public static double[]? ParseBbox(string s)
    {
        var parts = s.Split(',');
        if (parts.Length != 4) return null;
        var v = new double[4];
        for (var i = 0; i < 4; i++)
            if (!double.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
                return null;
        if (v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] >= v[2] || v[1] >= v[3]) return null;
        return v;
    }
}
