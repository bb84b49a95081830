using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Data;
using Observatoire.Import;

namespace Observatoire.Status;

/// <summary>One organisation of data.gouv.fr's export that is a collectivité's (by its SIREN).</summary>
public sealed record HarvestRow(int Line, string OrgId, string Name, string? Slug, string Siren, int Datasets, string? Badges, string? LastModified);

public sealed record HarvestResult(bool Skipped, string Source, int Rows, int Matched, int Open, int WithoutSiren,
    int NotCollectivite, IReadOnlyList<RowNote> Rejections);

/// <summary>
/// Imports data.gouv.fr's public export of its organisations (the CSV udata writes: <c>;</c>-separated,
/// quoted, columns located by name; <c>udata/core/organization/csv.py</c>) as observations dated on the
/// export's day, source <c>datagouv-AAAA-MM-JJ</c>: an organisation whose <c>business_number_id</c> (a
/// SIRET, or a SIREN) names a collectivité is observed on data.gouv.fr with <c>metric.datasets</c>
/// datasets; with at least one it is observed open. Which observation wins when sources disagree:
/// <c>migrations/013_datagouv_harvest.sql</c> (its comment; evaluated in status_periods_of, 014 and 016) and docs/status.md. One transaction, idempotent by the
/// file's checksum, a dry run, every rejected row with its reason, and the status import's guards.
/// </summary>
public sealed class DataGouvHarvest(NpgsqlDataSource db, TextWriter log)
{
    public ImportGuardOptions Guards { get; init; } = new();

    public static string SourceOf(DateOnly date) => "datagouv-" + date.ToString("yyyy-MM-dd");

    /// <summary>Reads the export: the rows naming a SIREN, the rejected rows, and the counts of the rest.</summary>
    public static (List<HarvestRow> Rows, List<RowNote> Rejected, int WithoutSiren) Read(string path)
    {
        var t = CsvTable.Read(path, tolerateMalformed: true);
        if (t.Delimiter != ';')
            throw new ImportException($"Le fichier {path} n'est pas l'export des organisations de data.gouv.fr : séparateur « ; » attendu, « {t.Delimiter} » lu.");
        int id = t.RequiredColumn("id"), name = t.RequiredColumn("name"), slug = t.RequiredColumn("slug"),
            siret = t.RequiredColumn("business_number_id"), datasets = t.RequiredColumn("metric.datasets");
        int badges = t.Column("badges"), modified = t.Column("last_modified");
        var rows = new List<HarvestRow>();
        var rejected = new List<RowNote>();
        var withoutSiren = 0;
        var seen = new HashSet<string>();
        foreach (var (line, f, raw) in t.Records)
        {
            if (t.Malformed.TryGetValue(line, out var why)) { rejected.Add(new(line, why, raw)); continue; }
            string Field(int i) => i >= 0 && i < f.Length ? f[i].Trim() : "";
            if (f.Length < t.Header.Length) { rejected.Add(new(line, $"{f.Length} champs au lieu de {t.Header.Length}", raw)); continue; }
            var orgId = Field(id);
            if (orgId.Length == 0) { rejected.Add(new(line, "identifiant d'organisation (« id ») absent", raw)); continue; }
            if (!seen.Add(orgId)) { rejected.Add(new(line, $"organisation « {orgId} » déjà lue plus haut dans le fichier", raw)); continue; }
            var number = Siren.Clean(Field(siret), out _);
            if (number.Length == 0) { withoutSiren++; continue; } // an organisation without SIRET: not a public body we can match
            if (!number.All(char.IsAsciiDigit) || number.Length is not (9 or 14))
            {
                rejected.Add(new(line, $"« business_number_id » = « {Field(siret)} » : un SIRET (14 chiffres) ou un SIREN (9 chiffres) attendu", raw));
                continue;
            }
            var siren = number[..9];
            if (Siren.Problem(siren) is { } p) { rejected.Add(new(line, p, raw)); continue; }
            if (!int.TryParse(Field(datasets), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                rejected.Add(new(line, $"« metric.datasets » = « {Field(datasets)} » : un nombre entier positif ou nul attendu", raw));
                continue;
            }
            rows.Add(new(line, orgId, Field(name), Field(slug) is { Length: > 0 } s ? s : null, siren, n,
                Field(badges) is { Length: > 0 } b ? b : null, Field(modified) is { Length: > 0 } m ? m : null));
        }
        return (rows, rejected, withoutSiren);
    }

    public async Task<HarvestResult> ImportAsync(string path, DateOnly date, bool dryRun = false, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var source = SourceOf(date);
        var file = Path.GetFileName(path);
        var (rows, rejected, withoutSiren) = Read(path);
        var checksum = ImportFiles.Checksum([path]);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("select checksum from status_snapshot where source = $1", conn))
        {
            cmd.Parameters.AddWithValue(source);
            if (!dryRun && await cmd.ExecuteScalarAsync(ct) as string == checksum)
            {
                log.WriteLine($"Moissonnage {source} déjà importé avec ce fichier ({file}) : aucune observation ajoutée.");
                return new HarvestResult(true, source, rows.Count, 0, 0, withoutSiren, 0, rejected);
            }
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        await ImportGuards.CaptureAsync(conn, ct);
        var releaseId = (int)(await ScalarAsync(conn, tx, "insert into data_release (kind, vintage, checksum) values ('status', $1, $2) returning id", ct, source, checksum))!;

        await conn.ExecAsync("""
            create temp table stage_harvest (line int, org_id text, name text, slug text, siren char(9), datasets int, badges text) on commit drop
            """, ct);
        await conn.CopyAsync("stage_harvest", rows, ct,
            new("line", NpgsqlDbType.Integer, r => r.Line), new("org_id", NpgsqlDbType.Text, r => r.OrgId),
            new("name", NpgsqlDbType.Text, r => r.Name), new("slug", NpgsqlDbType.Text, r => r.Slug),
            new("siren", NpgsqlDbType.Char, r => r.Siren), new("datasets", NpgsqlDbType.Integer, r => r.Datasets),
            new("badges", NpgsqlDbType.Text, r => r.Badges));

        // A corrected file for the same day replaces that day's harvest; other days are never touched.
        await conn.ExecAsync(tx, "delete from observation where source = $1", ct, source);
        var matched = await conn.ExecAsync(tx, """
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_datagouv, url,
                                     match_method, match_evidence, subject_siren, subject_name, source_line)
            select 'datagouv:' || s.org_id, c.id, $2, $1, s.datasets > 0, s.datasets,
                   'https://www.data.gouv.fr/fr/organizations/' || coalesce(s.slug, s.org_id) || '/',
                   'siren', format('business_number_id de l''organisation data.gouv.fr %s : SIREN %s', s.org_id, s.siren),
                   s.siren, s.name, s.line
              from stage_harvest s join collectivite c on c.siren = s.siren
            """, ct, source, date);
        await conn.ExecAsync(tx, """
            insert into status_snapshot (source, observed_on, file, checksum, complete, row_count, release_id, kind)
            values ($1, $2, $3, $4, false, $5, $6, 'datagouv')
            on conflict (source) do update set observed_on = excluded.observed_on, file = excluded.file, checksum = excluded.checksum,
                   row_count = excluded.row_count, release_id = excluded.release_id, kind = excluded.kind
            """, ct, source, date, file, checksum, rows.Count, releaseId);
        await StatusImporter.InsertRejections(conn, releaseId, file, rejected, ct);

        var open = (int)(long)(await ScalarAsync(conn, tx, "select count(distinct collectivite_id) from observation where source = $1 and is_listed", ct, source))!;
        var notCollectivite = rows.Count - matched;
        await conn.ExecAsync(tx, "update data_release set report = $2::jsonb where id = $1", ct, releaseId, JsonSerializer.Serialize(new
        {
            source, file, checksum, observedOn = date.ToString("yyyy-MM-dd"), rows = rows.Count, matched, open, withoutSiren, notCollectivite,
            rejected = rejected.Select(r => new { line = r.Line, reason = r.Reason }),
        }));

        log.WriteLine($"Moissonnage data.gouv.fr {source} ({file}){(dryRun ? " — essai à blanc, rien n'est écrit" : "")} : " +
            $"{rows.Count + withoutSiren} organisations lues, {matched} rattachées à une collectivité par leur SIREN " +
            $"(dont {open} collectivités avec au moins un jeu de données), {notCollectivite} hors du référentiel des collectivités, " +
            $"{withoutSiren} sans SIRET, {rejected.Count} rejetées, {sw.Elapsed.TotalSeconds:F1} s");
        foreach (var r in rejected) log.WriteLine($"    REJETÉE ligne {r.Line} : {r.Reason}");
        await ImportGuards.CheckStatusAsync(conn, log, Guards, rows.Count + withoutSiren, rejected.Count, dryRun, ct, verb: "import-datagouv");

        if (dryRun) await tx.RollbackAsync(ct);
        else
        {
            await tx.CommitAsync(ct);
            await conn.ExecAsync("vacuum (analyze) observation", ct);
        }
        return new HarvestResult(false, source, rows.Count, matched, open, withoutSiren, notCollectivite, rejected);
    }

    static async Task<object?> ScalarAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        return await cmd.ExecuteScalarAsync(ct);
    }
}
