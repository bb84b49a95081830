using System.Text.Json.Nodes;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// Expected answers computed from the raw files only (ODF CSV + COG JSON), with the rules of
/// docs/status.md re-implemented simply: SIREN, then for communes the same name (current or former
/// commune) in the same département; départements and régions by code.
/// </summary>
public static class Expected
{
    public static readonly string[] EpciTypes = ["CC", "CA", "CU", "MET"];

    /// <summary>Current commune codes open in a snapshot (rows of type COM).</summary>
    public static HashSet<string> OpenCommunes(List<RawOdf.Row> rows)
    {
        var current = RawCog.CurrentCommunes.ToList();
        var bySiren = current.Where(c => c["siren"] is not null).ToDictionary(c => (string)c["siren"]!, c => (string)c["code"]!);
        var open = new HashSet<string>();
        foreach (var r in rows.Where(r => r["type"] == "COM"))
        {
            if (bySiren.TryGetValue(r.Siren, out var code)) { open.Add(code); continue; }
            var dep = r.Fields.ContainsKey("Département") ? r["Département"] : r["depcode"];
            var key = RawOdf.Key(r["nom"]);
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

    /// <summary>Population of each current commune (null when the list has none).</summary>
    public static Dictionary<string, long> CommunePopulation() =>
        RawCog.CurrentCommunes.ToDictionary(c => (string)c["code"]!, c => (long?)c["population"] ?? 0);

    public static int? Int(JsonNode? n) => n is null ? null : (int)n;
}
