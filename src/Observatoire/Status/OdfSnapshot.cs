using System.Globalization;
using Observatoire.Import;

namespace Observatoire.Status;

/// <summary>One row of an OpenDataFrance directory snapshot, cleaned, before matching.</summary>
public sealed record OdfRow(
    int Line, string Siren, string Name, string Type, string? Departement, string? Region,
    double? Lat, double? Lon, int? DatasetsLocal, int? DatasetsDatagouv, string? Platforms, string? Url);

/// <summary>A row that is reported: rejected (not loaded) or loaded with a notice.</summary>
public sealed record RowNote(int Line, string Reason, string? Raw = null);

public sealed record OdfSnapshot(string Path, List<OdfRow> Rows, List<RowNote> Rejected, List<RowNote> Notices);

/// <summary>
/// Reads the directory of publishers ("organisations") of the OpenDataFrance observatoire. Two layouts
/// exist: the 2022-10-19 export (comma, BOM, <c>Département</c>, <c>regcode</c> like <c>BRE-53</c>,
/// <c>long</c>) and the 2022-04-25 derived export (semicolon, <c>depcode</c>, <c>reg_code_geo</c>,
/// <c>lon</c>); columns are found by name, so either works. A bad row is reported with its line and
/// reason and never stops the file; a file whose layout is unusable is refused as a whole.
/// </summary>
public static class OdfSnapshotReader
{
    /// <summary>Types of the reference list (matched to a collectivité); every other known type is an associated actor.</summary>
    public static readonly string[] CollectiviteTypes = ["COM", "CC", "CA", "CU", "MET", "EPT", "DEP", "REG"];
    public static readonly string[] ActorTypes = ["AGCT", "OACT", "OAGT", "OACT/OAGT", "DSPT", "SDE"];

    public static OdfSnapshot Read(string path)
    {
        var t = CsvTable.Read(path, tolerateMalformed: true);
        int siren = t.RequiredColumn("siren"), name = t.RequiredColumn("nom"), type = t.RequiredColumn("type");
        int dep = t.Column("Département", "depcode"), reg = t.Column("regcode", "reg_code_geo");
        int lat = t.Column("lat"), lon = t.Column("long", "lon");
        int local = t.Column("nb-ptf", "nb_ptf"), datagouv = t.Column("nb-datagouv", "nb_datagouv");
        int ptf = t.Column("ptf", "orga"), urlPtf = t.Column("url-ptf", "url_ptf"), urlDg = t.Column("url-datagouv", "url_datagouv");
        if (t.Records.Count == 0) throw new ImportException($"Le fichier {path} n'a aucune ligne de données.");

        var rows = new List<OdfRow>();
        var rejected = new List<RowNote>();
        var notices = new List<RowNote>();
        var seen = new Dictionary<string, int>();
        foreach (var (line, f, raw) in t.Records)
        {
            if (t.Malformed.TryGetValue(line, out var malformed)) { rejected.Add(new(line, malformed, raw)); continue; } // issue #14
            if (f.Length != t.Header.Length)
            {
                rejected.Add(new(line, $"{f.Length} colonnes au lieu de {t.Header.Length} (ligne coupée ou séparateur en trop)", raw));
                continue;
            }
            string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;

            var s = Siren.Clean(f[siren], out var removed);
            if (Siren.Problem(s) is { } problem) { rejected.Add(new(line, problem, raw)); continue; }
            if (removed is not null) notices.Add(new(line, $"SIREN {s} nettoyé ({removed} retiré)"));
            if (seen.TryGetValue(s, out var first)) { rejected.Add(new(line, $"SIREN {s} déjà présent ligne {first}", raw)); continue; }

            var n = Get(name);
            if (n is null) { rejected.Add(new(line, "nom absent", raw)); continue; }
            var ty = Get(type)?.ToUpperInvariant();
            if (ty is null || !(CollectiviteTypes.Contains(ty) || ActorTypes.Contains(ty)))
            {
                rejected.Add(new(line, $"type « {ty} » inconnu (attendu : {string.Join(", ", CollectiviteTypes.Concat(ActorTypes))})", raw));
                continue;
            }
            if (!Count(Get(local), out var nLocal) || !Count(Get(datagouv), out var nDg))
            {
                rejected.Add(new(line, "nombre de jeux de données illisible (entier positif ou vide attendu)", raw));
                continue;
            }
            double? la = Coord(Get(lat)), lo = Coord(Get(lon));
            if ((Get(lat) ?? Get(lon)) is not null && (la is not { } a || lo is not { } b || a is < -90 or > 90 || b is < -180 or > 180 || (a == 0 && b == 0)))
            {
                notices.Add(new(line, $"coordonnées « {Get(lat)} ; {Get(lon)} » illisibles : position ignorée"));
                la = lo = null;
            }
            if ((ImportGuards.UrlProblem(Get(urlPtf)) ?? ImportGuards.UrlProblem(Get(urlDg))) is { } urlProblem) // issue #14
            {
                rejected.Add(new(line, urlProblem, raw));
                continue;
            }
            seen[s] = line;
            rows.Add(new OdfRow(line, s, n, ty == "OACT/OAGT" ? "OACT" : ty, NormaliseDepartement(Get(dep)), RegionCode(Get(reg)),
                la, lo, nLocal, nDg, Get(ptf), Get(urlPtf) ?? Get(urlDg)));
        }
        return new OdfSnapshot(path, rows, rejected, notices);
    }

    static bool Count(string? v, out int? n)
    {
        n = null;
        if (v is null) return true; // empty = unknown, never zero
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var x)) { n = x; return true; }
        return false;
    }

    static double? Coord(string? v) =>
        v is not null && double.TryParse(v.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>"1" → "01"; codes like 2A, 971 unchanged.</summary>
    static string? NormaliseDepartement(string? d) => d is { Length: 1 } && char.IsAsciiDigit(d[0]) ? "0" + d : d;

    /// <summary><c>BRE-53</c> → <c>53</c>, <c>GP-01</c> → <c>01</c>, <c>53</c> → <c>53</c>; <c>NC</c>/<c>PF</c> (no région code) → null.</summary>
    static string? RegionCode(string? r)
    {
        if (r is null) return null;
        var code = r.Contains('-') ? r[(r.LastIndexOf('-') + 1)..] : r;
        if (code.Length == 0 || !code.All(char.IsAsciiDigit)) return null;
        return code.Length == 1 ? "0" + code : code; // the 2022-04 export writes Guadeloupe as 1
    }
}
