using System.Globalization;
using Observatoire.Import;

namespace Observatoire.Status;

/// <summary>One row of an OpenDataFrance directory snapshot, cleaned, before matching.</summary>
public sealed record OdfRow(
    int Line, string Siren, string Name, string Type, string? Departement, string? Region,
    double? Lat, double? Lon, int? DatasetsLocal, int? DatasetsDatagouv, string? Platforms, string? Url, int? Population);

/// <summary>A row that is reported: rejected (not loaded) or loaded with a notice.</summary>
public sealed record RowNote(int Line, string Reason, string? Raw = null);

/// <summary>
/// A check of the whole file, reported in the import report and stored with the snapshot.
/// <see cref="Failed"/>: the file contradicts itself and the affected values were stored as unknown.
/// </summary>
public sealed record SnapshotCheck(string Code, bool Failed, string Message);

public sealed record OdfSnapshot(string Path, List<OdfRow> Rows, List<RowNote> Rejected, List<RowNote> Notices, List<SnapshotCheck> Checks);

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
    public static readonly string[] CollectiviteTypes = Reference.CollectiviteTypes.Proper;
    public static readonly string[] ActorTypes = ["AGCT", "OACT", "OAGT", "OACT/OAGT", "DSPT", "SDE"];

    public static OdfSnapshot Read(string path)
    {
        var t = CsvTable.Read(path, tolerateMalformed: true);
        int siren = t.RequiredColumn("siren"), name = t.RequiredColumn("nom"), type = t.RequiredColumn("type");
        int dep = t.Column("Département", "depcode"), reg = t.Column("regcode", "reg_code_geo");
        int lat = t.Column("lat"), lon = t.Column("long", "lon");
        int local = t.Column("nb-ptf", "nb_ptf"), datagouv = t.Column("nb-datagouv", "nb_datagouv");
        int ptf = t.Column("ptf", "orga"), urlPtf = t.Column("url-ptf", "url_ptf"), urlDg = t.Column("url-datagouv", "url_datagouv");
        int pop = t.Column("pop-insee", "pop_insee"), stamp = t.Column("TimeStamp");
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
            // The population column is one of the facts a SIREN match is checked against; unreadable = unknown.
            var population = int.TryParse(Get(pop), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : (int?)null;
            rows.Add(new OdfRow(line, s, n, ty == "OACT/OAGT" ? "OACT" : ty, NormaliseDepartement(Get(dep)), RegionCode(Get(reg)),
                la, lo, nLocal, nDg, Get(ptf), Get(urlPtf) ?? Get(urlDg), population));
        }

        var checks = new List<SnapshotCheck>();
        if (Alignment(t, "data.gouv.fr", urlDg, datagouv) is { } dg)
        {
            checks.Add(dg);
            if (dg.Failed) rows = rows.Select(r => r with { DatasetsDatagouv = null }).ToList();
        }
        if (Alignment(t, "plateforme locale", urlPtf, local) is { } lc)
        {
            checks.Add(lc);
            if (lc.Failed) rows = rows.Select(r => r with { DatasetsLocal = null }).ToList();
        }
        if (LastEdits(t, stamp) is { } edits) checks.Add(edits);
        return new OdfSnapshot(path, rows, rejected, notices, checks);
    }

    /// <summary>
    /// A count column must line up with its own URL column: a row that has a data.gouv.fr URL has a
    /// data.gouv.fr count, and the reverse. When the rows agree far better with the count column moved
    /// by one row than as they stand (the 2022-04-25 derived export: 888 of 890 rows agree shifted by one,
    /// 505 as they stand; Paris gets another row's count), the column was shifted when the file was made:
    /// its counts are contradicted by the file itself and are stored as unknown.
    /// </summary>
    static SnapshotCheck? Alignment(CsvTable t, string what, int urlColumn, int countColumn)
    {
        if (urlColumn < 0 || countColumn < 0) return null;
        var records = t.Records.Where(r => r.Fields.Length == t.Header.Length).ToList();
        if (records.Count < 20) return null;
        bool Url(int i) => !string.IsNullOrWhiteSpace(records[i].Fields[urlColumn]);
        bool Count(int i) => !string.IsNullOrWhiteSpace(records[i].Fields[countColumn]);
        double Agreement(int shift)
        {
            int agree = 0, n = 0;
            for (var i = Math.Max(0, -shift); i < records.Count && i + shift < records.Count; i++, n++)
                if (Url(i) == Count(i + shift)) agree++;
            return n == 0 ? 0 : (double)agree / n;
        }
        double here = Agreement(0), before = Agreement(-1), after = Agreement(1);
        var (best, shift) = before >= after ? (before, -1) : (after, 1);
        var name = t.Header[countColumn].Trim();
        if (best >= 0.95 && here < 0.9)
            return new SnapshotCheck("count-column-shifted", true, string.Format(CultureInfo.GetCultureInfo("fr-FR"),
                "colonne « {0} » décalée d'une ligne par rapport à « {1} » : l'URL et le nombre de jeux ({2}) concordent sur {3:P0} des lignes en décalant d'une ligne {4}, {5:P0} telles quelles. Nombres de jeux {2} de ce fichier enregistrés comme inconnus.",
                name, t.Header[urlColumn].Trim(), what, best, shift < 0 ? "vers le haut" : "vers le bas", here));
        return new SnapshotCheck("count-column-aligned", false, string.Format(CultureInfo.GetCultureInfo("fr-FR"),
            "colonne « {0} » alignée sur « {1} » ({2:P0} des lignes concordent).", name, t.Header[urlColumn].Trim(), here));
    }

    /// <summary>When each row was last edited (the 2022-10-19 export's TimeStamp column, e.g. <c>15/12/2021 11:57am</c>): a snapshot's date is the export's, its content can be older.</summary>
    static SnapshotCheck? LastEdits(CsvTable t, int stamp)
    {
        if (stamp < 0) return null;
        var years = t.Records.Where(r => r.Fields.Length == t.Header.Length)
            .Select(r => r.Fields[stamp].Trim().Split(' ')[0].Split('/'))
            .Where(d => d.Length == 3 && d[2].Length == 4 && d[2].All(char.IsAsciiDigit))
            .GroupBy(d => d[2]).OrderBy(g => g.Key).Select(g => $"{g.Key} : {g.Count()}").ToList();
        return years.Count == 0 ? null
            : new SnapshotCheck("last-edits", false, "année de dernière modification des lignes (colonne « TimeStamp ») — " + string.Join(" ; ", years));
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
