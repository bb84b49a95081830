using System.Data;
using System.Globalization;
using Npgsql;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.Geo;

/// <summary>
/// <c>GET /api/geo/labels?bbox=minLon,minLat,maxLon,maxLat&amp;zoom=z</c>: the communes' names at their
/// label points (<c>collectivite_geometry.label_point</c>) inside the bbox, the most populous first,
/// as <c>[[lon, lat, name, population], …]</c>. The map writes them at commune zooms and drops those
/// that would overlap a more populous neighbour; the cap (more names as one zooms in) keeps the
/// answer small whatever the bbox.
/// </summary>
public static class PlaceLabelEndpoints
{
    public const int MinZoom = 9;

    public static int Cap(int zoom) => zoom <= 9 ? 150 : zoom == 10 ? 300 : 600;

    public static IEndpointRouteBuilder MapPlaceLabels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/geo/labels", Handle).CacheOutput(MapCache.Policy).WithName("PlaceLabels");
        return app;
    }

    static async Task<IResult> Handle(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var q = http.Request.Query;
        var bbox = q["bbox"].ToString() is { Length: > 0 } b ? GeoEndpoints.ParseBbox(b) : null;
        if (bbox is null)
            return Problems.Of(400, "Emprise invalide", "« bbox » attend minLon,minLat,maxLon,maxLat en degrés (WGS 84), ex. bbox=-1.8,47.9,-1.5,48.2.");
        if (!int.TryParse(q["zoom"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var zoom) || zoom < MinZoom || zoom > 18)
            return Problems.Of(400, "Zoom invalide", $"« zoom » attend un entier de {MinZoom} à 18 : les noms des communes ne s'écrivent qu'à partir du zoom {MinZoom}.");
        if (await MapCache.NotModifiedAsync(http, ct)) return Results.Empty;

        await using var cmd = db.CreateCommand("""
            select coalesce(json_agg(json_build_array(round(ST_X(g.label_point)::numeric, 5), round(ST_Y(g.label_point)::numeric, 5), x.name, x.population)
                                     order by x.population desc nulls last, x.id), '[]'::json)::text
              from (select c.id, c.name, c.population
                      from collectivite_geometry g join collectivite c on c.id = g.collectivite_id
                     where c.type = 'COM' and g.label_point && ST_MakeEnvelope(@x0, @y0, @x1, @y1, 4326)
                     order by c.population desc nulls last, c.id
                     limit @cap) x
              join collectivite_geometry g on g.collectivite_id = x.id
            """);
        cmd.Parameters.Add(new NpgsqlParameter<double>("x0", bbox[0]));
        cmd.Parameters.Add(new NpgsqlParameter<double>("y0", bbox[1]));
        cmd.Parameters.Add(new NpgsqlParameter<double>("x1", bbox[2]));
        cmd.Parameters.Add(new NpgsqlParameter<double>("y1", bbox[3]));
        cmd.Parameters.Add(new NpgsqlParameter<int>("cap", Cap(zoom)));
        await using var rd = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        await rd.ReadAsync(ct);
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var s = rd.GetStream(0);
        await s.CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }
}
