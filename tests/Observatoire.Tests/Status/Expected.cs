using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// Expected answers computed from the raw files only (ODF CSV + COG JSON + the 2018 boundaries), with the
/// rules of docs/status.md re-implemented simply: SIREN, unless two of the row's département, position
/// and population contradict the commune it points to (then the commune of the same name in the row's
/// département or around its position); then the same name (current or former commune) in the same
/// département; départements and régions by code. An organisation's facts are those of its latest row
/// (October when it is there), as the matching uses them for every snapshot.
/// </summary>
public static class Expected
{
    public static readonly string[] EpciTypes = ["CC", "CA", "CU", "MET"];

    /// <summary>Current commune codes open in a snapshot (rows of type COM).</summary>
    public static HashSet<string> OpenCommunes(List<RawOdf.Row> rows)
    {
        var current = RawCog.CurrentCommunes.ToList();
        var bySiren = current.Where(c => c["siren"] is not null).ToDictionary(c => (string)c["siren"]!, c => c);
        var latest = RawOdf.October.GroupBy(r => r.Siren).ToDictionary(g => g.Key, g => g.First());
        var open = new HashSet<string>();
        foreach (var row in rows.Where(r => r["type"] == "COM"))
        {
            var r = latest.GetValueOrDefault(row.Siren) ?? row;
            var dep = Departement(r);
            var key = RawOdf.Key(r["nom"]);
            var point = Point(r);
            if (bySiren.TryGetValue(r.Siren, out var c))
            {
                var code = (string)c["code"]!;
                var pop = (long?)c["population"];
                var disagree = (dep is not null && (string?)c["departement"] != dep ? 1 : 0)
                    + (point is not null && Near(code, point) is false ? 1 : 0)
                    + (Population(r) is { } p && pop is { } cp && (p < cp / 2.0 || p > cp * 2.0) ? 1 : 0);
                if (disagree < 2) { open.Add(code); continue; }
                // The SIREN is a homonym's: the commune of that name in the row's département or around its point.
                var homonyms = current.Where(x => (string)x["code"]! != code && RawOdf.Key((string)x["nom"]!) == key
                        && ((string?)x["departement"] == dep || (point is not null && Near((string)x["code"]!, point) is true)))
                    .Select(x => (string)x["code"]!).ToList();
                if (homonyms.Count == 1) open.Add(homonyms[0]);
                continue;
            }
            var same = current.Where(c => (string?)c["departement"] == dep && RawOdf.Key((string)c["nom"]!) == key).ToList();
            if (same.Count == 1) { open.Add((string)same[0]["code"]!); continue; }
            // Former communes (déléguées/associées → chef-lieu; old codes → the commune listing them).
            var former = RawCog.Communes.Where(c => (string?)c!["type"] != "commune-actuelle" && (string?)c!["departement"] == dep
                                                    && RawOdf.Key((string)c!["nom"]!) == key).Select(c => c!).ToList();
            var targets = former.Select(f => (string?)f["chefLieu"]
                                             ?? current.FirstOrDefault(c => c["anciensCodes"]?.AsArray().Any(a => (string?)a == (string)f["code"]!) ?? false)?["code"]?.ToString())
                                .OfType<string>().Distinct().ToList();
            if (targets.Count == 1) open.Add(targets[0]);
        }
        return open;
    }

    static string? Departement(RawOdf.Row r)
    {
        var d = (r.Fields.ContainsKey("Département") ? r["Département"] : r["depcode"]).Trim();
        return d.Length == 0 ? null : d.Length == 1 ? "0" + d : d;
    }

    static int? Population(RawOdf.Row r) =>
        int.TryParse(r.Fields.ContainsKey("pop-insee") ? r["pop-insee"] : r["pop_insee"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;

    static Point? Point(RawOdf.Row r)
    {
        var lon = r.Fields.ContainsKey("long") ? r["long"] : r["lon"];
        return double.TryParse(r["lat"], NumberStyles.Float, CultureInfo.InvariantCulture, out var la)
               && double.TryParse(lon, NumberStyles.Float, CultureInfo.InvariantCulture, out var lo) && !(la == 0 && lo == 0)
            ? new Point(lo, la) : null;
    }

    /// <summary>Whether the point lies within about 2 km (0.02°) of the commune's 2018 boundary; null when the file has no such code.</summary>
    static bool? Near(string code, Point p) => Boundaries.Value.TryGetValue(code, out var g) ? g.IsWithinDistance(p, 0.02) : null;

    static readonly Lazy<Dictionary<string, NetTopologySuite.Geometries.Geometry>> Boundaries = new(() =>
    {
        var f = new GeometryFactory();
        LinearRing Ring(JsonElement ring) => f.CreateLinearRing(ring.EnumerateArray().Select(c => new Coordinate(c[0].GetDouble(), c[1].GetDouble())).ToArray());
        Polygon Poly(JsonElement rings) => f.CreatePolygon(Ring(rings[0]), rings.EnumerateArray().Skip(1).Select(Ring).ToArray());
        using var s = new GZipStream(File.OpenRead(Path.Combine(TestEnvironment.DataDir, "geo", "communes-2018.geojson.gz")), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(s);
        var result = new Dictionary<string, NetTopologySuite.Geometries.Geometry>();
        foreach (var feature in doc.RootElement.GetProperty("features").EnumerateArray())
        {
            var geom = feature.GetProperty("geometry");
            var coords = geom.GetProperty("coordinates");
            result[feature.GetProperty("properties").GetProperty("code").GetString()!] = geom.GetProperty("type").GetString() == "Polygon"
                ? Poly(coords) : f.CreateMultiPolygon(coords.EnumerateArray().Select(Poly).ToArray());
        }
        return result;
    });

    /// <summary>EPCI (CC/CA/CU/MET) SIRENs of the list that a snapshot names directly.</summary>
    public static HashSet<string> DirectEpci(List<RawOdf.Row> rows)
    {
        var epci = RawCog.Epci.Select(e => (string)e!["code"]!).ToHashSet();
        return rows.Where(r => EpciTypes.Contains(r["type"]) || r["type"] == "EPT").Select(r => r.Siren).Where(epci.Contains).ToHashSet();
    }

    public static HashSet<string> OpenDepartements(List<RawOdf.Row> rows)
    {
        var deps = RawCog.Departements.Where(d => (string?)d!["zone"] != "com").Select(d => (string)d!["code"]!).ToHashSet();
        return rows.Where(r => r["type"] == "DEP").Select(r => r.Fields.ContainsKey("Département") ? r["Département"] : r["depcode"])
            .Where(deps.Contains).ToHashSet();
    }

    public static HashSet<string> OpenRegions(List<RawOdf.Row> rows)
    {
        var regs = RawCog.Regions.Where(d => (string?)d!["zone"] != "com").Select(d => (string)d!["code"]!).ToHashSet();
        return rows.Where(r => r["type"] == "REG")
            .Select(r => r.Fields.ContainsKey("regcode") ? r["regcode"].Split('-').Last() : r["reg_code_geo"].PadLeft(2, '0'))
            .Where(regs.Contains).ToHashSet();
    }

    /// <summary>Communes of the collectivités d'outre-mer (zone com): outside the national counts and the obligation.</summary>
    public static readonly HashSet<string> OverseasCommunes =
        RawCog.CurrentCommunes.Where(c => (string?)c["zone"] == "com").Select(c => (string)c["code"]!).ToHashSet();

    /// <summary>Population of each current commune (null when the list has none).</summary>
    public static Dictionary<string, long> CommunePopulation() =>
        RawCog.CurrentCommunes.ToDictionary(c => (string)c["code"]!, c => (long?)c["population"] ?? 0);

    public static int? Int(JsonNode? n) => n is null ? null : (int)n;
}
