using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Data;
using Observatoire.Import;

namespace Observatoire.Status;

/// <summary>
/// The publication platforms of the OpenDataFrance tables (plateformes.csv, plateformes-nationales-*.csv)
/// and the national milestones (milestones.csv). Both are small lists replaced whole in one transaction:
/// re-importing the same files leaves the same rows; a bad row is reported and skipped.
/// </summary>
public static class PlatformsAndMilestones
{
    /// <summary>The source's French collaboration modes, normalised.</summary>
    static readonly Dictionary<string, string> Modes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Dédié"] = "dedicated", ["Mutualisé"] = "mutualised", ["Partenarial"] = "partnership", ["Partenariat"] = "partnership", ["Partagé"] = "shared",
    };

    public sealed record PlatformRow(string Id, string Name, string? Url, string? Type, string? Mode, string? Technology, string[] Hosted, string Source);

    public static (List<PlatformRow> Rows, List<RowNote> Rejected) ReadPlatforms(string path, string? nationalPath)
    {
        var rows = new List<PlatformRow>();
        var rejected = new List<RowNote>();
        var ids = new HashSet<string>();
        string Id(string name)
        {
            var b = Slug(name);
            var id = b;
            for (var i = 2; !ids.Add(id); i++) id = $"{b}-{i}";
            return id;
        }

        var t = CsvTable.Read(path);
        int name = t.RequiredColumn("Nom"), type = t.Column("Type"), collab = t.Column("Collab"), url = t.Column("url");
        int techno = t.Column("Techno"), hosted = t.Column("Organisations 5", "Organisations");
        foreach (var (line, f, raw) in t.Records)
        {
            if (f.Length != t.Header.Length) { rejected.Add(new(line, $"{f.Length} colonnes au lieu de {t.Header.Length}", raw)); continue; }
            string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;
            if (Get(name) is not { } n) { rejected.Add(new(line, "nom de plateforme absent", raw)); continue; }
            string? mode = null;
            if (Get(collab) is { } c && !Modes.TryGetValue(c, out mode))
            {
                rejected.Add(new(line, $"mode de collaboration « {c} » inconnu (Dédié, Mutualisé, Partenarial, Partagé)", raw));
                continue;
            }
            if (ImportGuards.UrlProblem(Get(url)) is { } badUrl) { rejected.Add(new(line, badUrl, raw)); continue; } // issue #14
            var sirens = (Get(hosted) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => Siren.Clean(s, out _)).Where(s => Siren.Problem(s) is null).Distinct().ToArray();
            rows.Add(new PlatformRow(Id(n), n, Get(url), Get(type), mode, Get(techno), sirens, "odf-plateformes"));
        }
        if (nationalPath is not null && File.Exists(nationalPath))
        {
            var nt = CsvTable.Read(nationalPath);
            int nn = nt.RequiredColumn("nom"), ntype = nt.Column("type"), nurl = nt.Column("url"), ntech = nt.Column("techno");
            foreach (var (line, f, raw) in nt.Records)
            {
                if (f.Length != nt.Header.Length) { rejected.Add(new(line, $"{Path.GetFileName(nationalPath)} : {f.Length} colonnes au lieu de {nt.Header.Length}", raw)); continue; }
                string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;
                if (Get(nn) is not { } n) { rejected.Add(new(line, $"{Path.GetFileName(nationalPath)} : nom absent", raw)); continue; }
                if (ImportGuards.UrlProblem(Get(nurl)) is { } badUrl) { rejected.Add(new(line, $"{Path.GetFileName(nationalPath)} : {badUrl}", raw)); continue; } // issue #14
                rows.Add(new PlatformRow(Id(n), n, Get(nurl), Get(ntype), null, Get(ntech), [], "odf-plateformes-nationales"));
            }
        }
        return (rows, rejected);
    }

    public static async Task ImportPlatformsAsync(NpgsqlDataSource db, string path, string? nationalPath, TextWriter log, CancellationToken ct = default)
    {
        var (rows, rejected) = ReadPlatforms(path, nationalPath);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("delete from platform", conn, tx)) await cmd.ExecuteNonQueryAsync(ct);
        await conn.CopyAsync("platform", rows, ct,
            new("id", NpgsqlDbType.Text, r => r.Id), new("name", NpgsqlDbType.Text, r => r.Name), new("url", NpgsqlDbType.Text, r => r.Url),
            new("type", NpgsqlDbType.Text, r => r.Type), new("collaboration_mode", NpgsqlDbType.Text, r => r.Mode),
            new("technology", NpgsqlDbType.Text, r => r.Technology), new("hosted_sirens", NpgsqlDbType.Array | NpgsqlDbType.Text, r => r.Hosted),
            new("source", NpgsqlDbType.Text, r => r.Source));
        if (rejected.Count > 0)
        {
            var release = await NewRelease(conn, "platforms", Path.GetFileName(path), ImportFiles.Checksum([path]), ct);
            await StatusImporter.InsertRejections(conn, release, Path.GetFileName(path), rejected, ct);
        }
        await tx.CommitAsync(ct);
        log.WriteLine($"Plateformes : {rows.Count} chargées ({rows.Count(r => r.Source == "odf-plateformes")} locales, {rows.Count(r => r.Source != "odf-plateformes")} nationales), {rejected.Count} rejetées.");
        foreach (var r in rejected) log.WriteLine($"    REJETÉE ligne {r.Line} : {r.Reason}");
    }

    public static async Task ImportMilestonesAsync(NpgsqlDataSource db, string path, TextWriter log, CancellationToken ct = default)
    {
        var t = CsvTable.Read(path);
        int date = t.RequiredColumn("date"), open = t.RequiredColumn("open_collectivites");
        int total = t.Column("obliged_total"), obligedOpen = t.Column("obliged_open"), note = t.Column("note"), source = t.Column("source");
        var rejected = new List<RowNote>();
        var rows = new List<(DateOnly, int, int?, int?, string?, string?)>();
        foreach (var (line, f, raw) in t.Records)
        {
            if (f.Length != t.Header.Length) { rejected.Add(new(line, $"{f.Length} colonnes au lieu de {t.Header.Length}", raw)); continue; }
            string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;
            if (!DateOnly.TryParseExact(Get(date) ?? "", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            { rejected.Add(new(line, $"date « {Get(date)} » illisible (AAAA-MM-JJ attendu)", raw)); continue; }
            if (!int.TryParse(Get(open), NumberStyles.None, CultureInfo.InvariantCulture, out var o))
            { rejected.Add(new(line, $"nombre de collectivités ouvertes « {Get(open)} » illisible", raw)); continue; }
            int? Opt(int i) => int.TryParse(Get(i), NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? x : null;
            rows.Add((d, o, Opt(total), Opt(obligedOpen), Get(note), Get(source)));
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("delete from milestone", conn, tx)) await cmd.ExecuteNonQueryAsync(ct);
        foreach (var (d, o, tot, oo, n, s) in rows)
        {
            await using var cmd = new NpgsqlCommand(
                "insert into milestone (observed_on, open_count, obliged_total, obliged_open, note, source) values ($1,$2,$3,$4,$5,$6) on conflict (observed_on) do nothing", conn, tx);
            cmd.Parameters.AddWithValue(d);
            cmd.Parameters.AddWithValue(o);
            cmd.Parameters.AddWithValue(NpgsqlDbType.Integer, (object?)tot ?? DBNull.Value);
            cmd.Parameters.AddWithValue(NpgsqlDbType.Integer, (object?)oo ?? DBNull.Value);
            cmd.Parameters.AddWithValue(NpgsqlDbType.Text, (object?)n ?? DBNull.Value);
            cmd.Parameters.AddWithValue(NpgsqlDbType.Text, (object?)s ?? DBNull.Value);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (rejected.Count > 0)
        {
            var release = await NewRelease(conn, "milestones", Path.GetFileName(path), ImportFiles.Checksum([path]), ct);
            await StatusImporter.InsertRejections(conn, release, Path.GetFileName(path), rejected, ct);
        }
        await tx.CommitAsync(ct);
        log.WriteLine($"Jalons nationaux : {rows.Count} chargés, {rejected.Count} rejetés.");
        foreach (var r in rejected) log.WriteLine($"    REJETÉE ligne {r.Line} : {r.Reason}");
    }

    internal static async Task<int> NewRelease(NpgsqlConnection conn, string kind, string vintage, string checksum, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("insert into data_release (kind, vintage, checksum) values ($1, $2, $3) returning id", conn);
        cmd.Parameters.AddWithValue(kind);
        cmd.Parameters.AddWithValue(vintage);
        cmd.Parameters.AddWithValue(checksum);
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>"Aix en Provence Open Data" → "aix-en-provence-open-data".</summary>
    public static string Slug(string s)
    {
        var d = s.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder();
        foreach (var ch in d)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            if (char.IsAsciiLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        return sb.ToString().Trim('-') is { Length: > 0 } x ? x : "plateforme";
    }
}
