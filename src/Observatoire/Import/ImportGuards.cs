using System.Globalization;
using Npgsql;
using Observatoire.Data;

namespace Observatoire.Import;

/// <summary>
/// Limits of what one import may change before it is refused (section <c>Imports</c> of appsettings.json).
/// The files are made by hand: a truncated export, a file of the wrong kind or a partial boundary file
/// parse fine row by row, and without these limits they would blank the map in one commit.
/// </summary>
public sealed class ImportGuardOptions
{
    /// <summary>Largest share of the currently open collectivités a status snapshot may turn "not open".</summary>
    public double MaxOpenRemovedShare { get; set; } = 0.2;
    /// <summary>Largest share of a snapshot's rows that may be rejected.</summary>
    public double MaxRejectedShare { get; set; } = 0.1;
    /// <summary>Smallest share of the communes that have boundaries today a reference import must still cover.</summary>
    public double MinBoundaryCoverage { get; set; } = 0.95;
    /// <summary>Largest share of the collectivités a reference import may remove.</summary>
    public double MaxCollectivitesRemovedShare { get; set; } = 0.05;
    /// <summary>Set by <c>--accepter-changement</c>: a large change a dry run has shown is real is committed.</summary>
    public bool AcceptLargeChange { get; set; }

    public const string AcceptOption = "--accepter-changement";

    public static ImportGuardOptions From(IConfiguration config, bool accept)
    {
        var o = config.GetSection("Imports").Get<ImportGuardOptions>() ?? new ImportGuardOptions();
        o.AcceptLargeChange = accept;
        return o;
    }
}

/// <summary>An import refused by a guard: nothing was written; the message says why and how to accept it.</summary>
public sealed class ImportRefusedException(string message) : Exception(message);

/// <summary>
/// Compares what an import is about to commit with what is there, inside the import's own transaction:
/// <see cref="CaptureAsync"/> right after it begins (before any write), then a Check… call just before
/// the commit. A refusal throws <see cref="ImportRefusedException"/> and the transaction is rolled back.
/// </summary>
public static class ImportGuards
{
    /// <summary>Lines of each list printed in the diff; the rest is counted.</summary>
    const int ListedMax = 200;

    /// <summary>The state the guards compare against (temporary table, dropped with the transaction).</summary>
    public static Task CaptureAsync(NpgsqlConnection conn, CancellationToken ct) => conn.ExecAsync("""
        create temp table guard_before on commit drop as
          select id, type, name, is_open, dataset_count, has_geometry from collectivite;
        """, ct);

    /// <summary>
    /// The diff of a status snapshot (newly open, no longer listed, changed dataset counts, rejected rows),
    /// printed always; throws when a limit is passed, unless accepted or in a dry run (which says it would be refused).
    /// </summary>
    public static async Task CheckStatusAsync(NpgsqlConnection conn, TextWriter log, ImportGuardOptions o,
        int rows, int rejected, bool dryRun, CancellationToken ct, string verb = "import-status")
    {
        var newlyOpen = await ListAsync(conn, """
            select c.type || ' ' || c.id || ' « ' || c.name || ' »' from collectivite c join guard_before b using (id)
             where c.is_open and not b.is_open order by c.id
            """, ct);
        var noLonger = await ListAsync(conn, """
            select c.type || ' ' || c.id || ' « ' || c.name || ' »' from collectivite c join guard_before b using (id)
             where b.is_open and not c.is_open order by c.id
            """, ct);
        var datasets = await ListAsync(conn, """
            select c.type || ' ' || c.id || ' « ' || c.name || ' » : ' || coalesce(b.dataset_count::text, 'inconnu')
                   || ' → ' || coalesce(c.dataset_count::text, 'inconnu')
              from collectivite c join guard_before b using (id)
             where c.is_open and b.is_open and c.dataset_count is distinct from b.dataset_count order by c.id
            """, ct);
        var openBefore = await ScalarAsync(conn, "select count(*) from guard_before where is_open", ct);
        var openAfter = await ScalarAsync(conn, "select count(*) from collectivite where is_open", ct);

        log.WriteLine($"Changements : {openBefore} → {openAfter} collectivités ouvertes");
        PrintList(log, "nouvellement ouvertes", newlyOpen);
        PrintList(log, "ne sont plus listées (n'apparaissent plus ouvertes)", noLonger);
        PrintList(log, "nombre de jeux de données changé", datasets);
        log.WriteLine($"    lignes rejetées : {rejected} sur {rows + rejected}");

        var reasons = new List<string>();
        if (openBefore > 0 && (double)noLonger.Count / openBefore > o.MaxOpenRemovedShare)
            reasons.Add($"{noLonger.Count} des {openBefore} collectivités ouvertes ({Pct(noLonger.Count, openBefore)}) ne le seraient plus ; limite : {Pct(o.MaxOpenRemovedShare)} (Imports:MaxOpenRemovedShare)");
        if (rows + rejected > 0 && (double)rejected / (rows + rejected) > o.MaxRejectedShare)
            reasons.Add($"{rejected} des {rows + rejected} lignes ({Pct(rejected, rows + rejected)}) sont rejetées ; limite : {Pct(o.MaxRejectedShare)} (Imports:MaxRejectedShare)");
        Decide(log, o, reasons, dryRun, verb);
    }

    /// <summary>
    /// Reference import, after the geometries are rebuilt: refuses boundary files that cover far fewer
    /// communes than today's, and lists that remove many collectivités.
    /// </summary>
    public static async Task CheckReferenceAsync(NpgsqlConnection conn, TextWriter log, ImportGuardOptions o, bool dryRun, CancellationToken ct)
    {
        var before = await ScalarAsync(conn, "select count(*) from guard_before", ct);
        var after = await ScalarAsync(conn, "select count(*) from collectivite", ct);
        var geoBefore = await ScalarAsync(conn, "select count(*) from guard_before where type = 'COM' and has_geometry", ct);
        var geoAfter = await ScalarAsync(conn, "select count(*) from collectivite where type = 'COM' and has_geometry", ct);
        var removed = await ListAsync(conn, """
            select b.type || ' ' || b.id || ' « ' || b.name || ' »' from guard_before b
             where not exists (select 1 from collectivite c where c.id = b.id) order by b.id
            """, ct);
        var lostGeometry = await ListAsync(conn, """
            select c.id || ' « ' || c.name || ' »' from collectivite c join guard_before b using (id)
             where c.type = 'COM' and b.has_geometry and not c.has_geometry order by c.id
            """, ct);

        log.WriteLine($"Changements : {before} → {after} collectivités ; communes avec contour : {geoBefore} → {geoAfter}");
        PrintList(log, "retirées du référentiel", removed);
        PrintList(log, "communes qui perdraient leur contour", lostGeometry);

        var reasons = new List<string>();
        if (geoBefore > 0 && (double)geoAfter / geoBefore < o.MinBoundaryCoverage)
            reasons.Add($"les contours ne couvriraient plus que {geoAfter} des {geoBefore} communes qui en ont aujourd'hui ({Pct(geoAfter, geoBefore)}) ; minimum : {Pct(o.MinBoundaryCoverage)} (Imports:MinBoundaryCoverage)");
        if (before > 0 && (double)removed.Count / before > o.MaxCollectivitesRemovedShare)
            reasons.Add($"{removed.Count} des {before} collectivités ({Pct(removed.Count, before)}) seraient retirées ; limite : {Pct(o.MaxCollectivitesRemovedShare)} (Imports:MaxCollectivitesRemovedShare)");
        Decide(log, o, reasons, dryRun, "import");
    }

    static void Decide(TextWriter log, ImportGuardOptions o, List<string> reasons, bool dryRun, string verb)
    {
        if (reasons.Count == 0) return;
        var why = string.Join(Environment.NewLine, reasons.Select(r => "    - " + r));
        if (o.AcceptLargeChange)
        {
            log.WriteLine($"Changement important accepté ({ImportGuardOptions.AcceptOption}) :{Environment.NewLine}{why}");
            return;
        }
        if (dryRun)
        {
            log.WriteLine($"Sans {ImportGuardOptions.AcceptOption}, cet import serait REFUSÉ :{Environment.NewLine}{why}");
            return;
        }
        throw new ImportRefusedException(
            $"Import refusé : le changement n'est pas plausible pour un fichier complet.{Environment.NewLine}{why}{Environment.NewLine}" +
            $"Vérifiez le fichier (tronqué ? autre format ? autre date ?). Si le changement est réel, examinez-le avec « {verb} … --essai », " +
            $"puis relancez avec {ImportGuardOptions.AcceptOption}.");
    }

    static void PrintList(TextWriter log, string title, List<string> items)
    {
        log.WriteLine($"    {title} : {items.Count}");
        foreach (var i in items.Take(ListedMax)) log.WriteLine("      " + i);
        if (items.Count > ListedMax) log.WriteLine($"      … et {items.Count - ListedMax} autres");
    }

    static string Pct(double share) => (share * 100).ToString("0.#", CultureInfo.GetCultureInfo("fr-FR")) + " %";
    static string Pct(long part, long whole) => Pct((double)part / whole);

    static async Task<long> ScalarAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    static async Task<List<string>> ListAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        var list = new List<string>();
        while (await rd.ReadAsync(ct)) list.Add(rd.GetString(0));
        return list;
    }

    /// <summary>
    /// A URL read from a file: null when it is an absolute http(s) URL, else the reason it is refused
    /// (a <c>javascript:</c> or <c>data:</c> URL written into a link runs in the visitor's browser).
    /// </summary>
    public static string? UrlProblem(string? url)
    {
        if (url is null) return null;
        if (Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)
            && !url.Any(char.IsControl))
            return null;
        var shown = url.Length > 60 ? url[..60] + "…" : url;
        return $"URL « {new string(shown.Select(ch => char.IsControl(ch) ? '?' : ch).ToArray())} » refusée : seules les adresses http:// ou https:// complètes sont acceptées";
    }

    /// <summary>The URL if it is safe to write into a link (http or https), else null: for answers built from stored rows.</summary>
    public static string? SafeUrl(string? url) => UrlProblem(url) is null ? url : null;
}
