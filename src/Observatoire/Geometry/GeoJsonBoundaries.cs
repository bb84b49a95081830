using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO.Converters;
using Observatoire.Import;

namespace Observatoire.Geometry;

/// <summary>
/// Reads a boundary file: a GeoJSON FeatureCollection (plain or .gz) whose features carry a
/// <c>code</c> (INSEE or SIREN) and a <c>nom</c>: the shape of france-geojson and of Etalab's
/// "contours-administratifs" (ADMIN EXPRESS), so a newer official file loads the same way.
/// </summary>
public static class GeoJsonBoundaries
{
    public sealed record Boundary(string Code, string? Name, NetTopologySuite.Geometries.Geometry Geom);

    static readonly JsonSerializerOptions Json = CreateOptions();

    static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions();
        o.Converters.Add(new GeoJsonConverterFactory(new GeometryFactory(new PrecisionModel(), 4326)));
        return o;
    }

    public static List<Boundary> Read(string path)
    {
        var fc = ImportFiles.ReadJson<FeatureCollection>(path, Json);
        var list = new List<Boundary>(fc.Count);
        var line = 0;
        foreach (var f in fc)
        {
            line++;
            var code = f.Attributes?.Exists("code") == true ? f.Attributes["code"]?.ToString() : null;
            if (string.IsNullOrWhiteSpace(code))
                throw new ImportException($"{path} : l'entité n° {line} n'a pas de propriété « code ».");
            if (f.Geometry is not (Polygon or MultiPolygon) || f.Geometry.IsEmpty)
                throw new ImportException($"{path} : l'entité {code} n'a pas de géométrie Polygon/MultiPolygon.");
            var env = f.Geometry.EnvelopeInternal;
            if (env.MinX < -180 || env.MaxX > 180 || env.MinY < -90 || env.MaxY > 90)
                throw new ImportException($"{path} : l'entité {code} a des coordonnées hors de [-180,180]×[-90,90] : le fichier doit être en WGS84 (EPSG:4326).");
            f.Geometry.SRID = 4326;
            var name = f.Attributes!.Exists("nom") ? f.Attributes["nom"]?.ToString() : null;
            list.Add(new Boundary(code.Trim(), name, f.Geometry));
        }
        if (list.Count == 0) throw new ImportException($"{path} ne contient aucune entité.");
        return list;
    }
}
