using System.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using Observatoire.Api;
using Observatoire.Map;
using Observatoire.Geometry;

namespace Observatoire.Tiles;

/// <summary>
/// <c>GET /tiles/{layer}/{z}/{x}/{y}.pbf</c>: Mapbox vector tiles built by PostGIS (<c>ST_AsMVT</c>,
/// <c>ST_AsMVTGeom</c> in <c>ST_TileEnvelope</c>), passed through as bytes. Layers <c>communes</c>
/// and <c>epci</c> (the tile's layer has the same name); properties limited to what the map draws:
/// <c>code</c> (INSEE code; SIREN for an EPCI), <c>population</c>, <c>status</c> (<c>open</c> |
/// <c>obliged</c> = obliged and not open | <c>other</c>), <c>name</c> from zoom <see cref="NamesFromZoom"/>
/// and, for EPCI, <c>type</c>. The collectivité id is <c>COM-{code}</c>, <c>EPCI-{code}</c> or
/// <c>EPT-{code}</c>: not repeated in every feature. Properties are most of a tile's bytes (names and
/// codes are unique per feature): without names at z ≤ 8 the densest z8 tile stays under 100 KB. The same filters as the GeoJSON
/// (type, band, obliged, open, atd, region, departement, date) select the features. Limits: at most
/// <see cref="MapOptions.TileFeatureCap"/> features per tile (largest populations first); nothing
/// below a layer's minimum zoom (204, empty tile); geometry column by <see cref="ZoomBands"/>.
/// The default view's commune tiles (no filter, zoom ≤ <see cref="MapOptions.TileStoreMaxZoom"/>) are
/// read from <see cref="TileStore"/>, pre-rendered per data release; every other tile is rendered here.
/// </summary>
public static class TileEndpoints
{
    public const string ContentType = "application/vnd.mapbox-vector-tile";
    public const int NamesFromZoom = 9;

    /// <summary>Tile grid (ST_AsMVT's extent) and the buffer kept around each tile, in grid units.</summary>
    public const int Extent = 4096, Buffer = 64;

    public static IEndpointRouteBuilder MapTiles(this IEndpointRouteBuilder app)
    {
        app.MapGet("/tiles/{layer}/{z:int}/{x:int}/{y:int}.pbf", Handle).CacheOutput(MapCache.Policy).WithName("VectorTile");
        return app;
    }

    static async Task<IResult> Handle(string layer, int z, int x, int y, HttpContext http, NpgsqlDataSource db,
        IOptions<MapOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        if (layer is not ("communes" or "epci"))
            return Problems.Of(404, "Couche inconnue", $"« {layer} » n'est pas une couche de tuiles. Couches : communes, epci.");
        if (z < 0 || z > o.MaxZoom || x < 0 || y < 0 || x >= 1 << z || y >= 1 << z)
            return Problems.Of(400, "Tuile invalide",
                $"La tuile {z}/{x}/{y} n'existe pas : le zoom va de 0 à {o.MaxZoom} et x, y de 0 à 2^zoom − 1.");
        var p = new QueryParameters(http.Request.Query);
        var filters = MapFilters.Parse(p);
        if (!p.IsValid) return p.Problem();

        if (await MapCache.NotModifiedAsync(http, ct)) return Results.Empty;
        var minZoom = layer == "communes" ? o.CommuneTileMinZoom : o.EpciTileMinZoom;
        if (z < minZoom) return Results.NoContent();

        await using var cmd = db.CreateCommand();
        if (filters.IsDefault && z <= o.TileStoreMaxZoom && TileStore.Stores(layer))
        {
            // The default view is pre-rendered per data release (TileStore): one primary-key read.
            var release = await http.RequestServices.GetRequiredService<DataReleaseClock>().CurrentAsync(ct);
            // A tile the complete seed did not store meets no commune (the seed lists every tile that
            // can): an empty row, answered 204 without rendering. No row at all: the seed of this
            // release is not complete, render.
            cmd.CommandText = """
                select mvt from map_tile where release = @release and layer = @layer and z = @z and x = @x and y = @y
                union all
                select ''::bytea from map_tile_seed where release = @release and layer = @layer
                limit 1
                """;
            cmd.Parameters.Add(new NpgsqlParameter<int>("release", release));
            cmd.Parameters.Add(new NpgsqlParameter<string>("layer", layer));
            cmd.Parameters.Add(new NpgsqlParameter<short>("z", (short)z));
            cmd.Parameters.Add(new NpgsqlParameter<int>("x", x));
            cmd.Parameters.Add(new NpgsqlParameter<int>("y", y));
            await using (var stored = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct))
                if (await stored.ReadAsync(ct))
                {
                    MapCache.DoNotStore(http);
                    return await WriteAsync(http, stored, ct);
                }
            // The release's tiles are still being rendered (or the server reads an older release): render it.
            cmd.Parameters.Clear();
        }
        cmd.CommandText = RenderSql(layer, z, x, y, o.TileFeatureCap, filters, cmd);
        await using var rd = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        await rd.ReadAsync(ct);
        return await WriteAsync(http, rd, ct);
    }

    /// <summary>Writes the tile in column 0 of the current row; null or empty: 204.</summary>
    static async Task<IResult> WriteAsync(HttpContext http, NpgsqlDataReader rd, CancellationToken ct)
    {
        if (rd.IsDBNull(0)) return Results.NoContent();
        await using var tile = rd.GetStream(0);
        if (tile.Length == 0) return Results.NoContent();
        http.Response.ContentType = ContentType;
        http.Response.ContentLength = tile.Length;
        await tile.CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }

    /// <summary>The feature's <c>status</c> property for collectivité <c>c</c> (the seed compares it between releases).</summary>
    internal static string StatusSql(string open) => $"case when {open} then 'open' when c.is_obliged then 'obliged' else 'other' end";

    /// <summary>
    /// The statement rendering one tile (one row, one bytea column: null or empty when no feature),
    /// with its parameters added to <paramref name="cmd"/>. The endpoint and <see cref="TileStore"/>
    /// both use it, so a stored tile has the bytes the endpoint would render.
    /// </summary>
    internal static string RenderSql(string layer, int z, int x, int y, int cap, MapFilters filters, NpgsqlCommand cmd)
    {
        cmd.Parameters.Add(new NpgsqlParameter<int>("z", z));
        cmd.Parameters.Add(new NpgsqlParameter<int>("x", x));
        cmd.Parameters.Add(new NpgsqlParameter<int>("y", y));
        cmd.Parameters.Add(new NpgsqlParameter<int>("cap", cap));
        cmd.Parameters.Add(new NpgsqlParameter<string>("layer", layer));
        var column = ZoomBands.ColumnFor(z);
        var (join, open, _) = filters.Status("c", cmd);
        var where = filters.MemberPredicate("c", open, cmd) + filters.AreaPredicate("c", cmd);
        var types = layer == "communes" ? "c.type = 'COM'" : "c.type = any(groupement_types())";
        var extra = (z >= NamesFromZoom ? ", name" : "") + (layer == "epci" ? ", type" : "");
        // The selection box is the tile plus the buffer that ST_AsMVTGeom keeps, so strokes
        // at tile edges join up.
        return $"""
            with b as (
                select ST_TileEnvelope(@z, @x, @y) as env,
                       ST_Transform(ST_TileEnvelope(@z, @x, @y, margin => {Buffer}.0 / {Extent}), 4326) as sel),
            sel as (
                select c.id, c.code, c.name, c.type, c.population,
                       {StatusSql(open)} as status,
                       g.{column} as geom
                  from collectivite c
                  join collectivite_geometry g on g.collectivite_id = c.id
                  {join}
                  cross join b
                 where {types} and g.{column} && b.sel {where}
                 order by c.population desc nulls last, c.id
                 limit @cap),
            mvt as (
                select code{extra}, population, status,
                       ST_AsMVTGeom(ST_Transform(geom, 3857), b.env, {Extent}, {Buffer}, true) as geom
                  from sel cross join b)
            select ST_AsMVT(mvt, @layer, {Extent}, 'geom') from mvt where geom is not null
            """;
    }
}
