using Observatoire.Data;
using System.Diagnostics;
using System.Text.Json;
using NetTopologySuite.Geometries;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Import;

namespace Observatoire.Status;

public sealed record StatusImportResult(
    bool Skipped, string Source, int Rows, int Rejected, IReadOnlyDictionary<string, int> ByMethod,
    IReadOnlyList<RowNote> Rejections, IReadOnlyList<RowNote> Notices, IReadOnlyList<string> NotDirect,
    IReadOnlyList<SnapshotCheck> Checks);

/// <summary>
/// Imports one dated snapshot of the OpenDataFrance directory as observations, in ONE transaction:
/// binary COPY of the cleaned rows into a staging table, upsert into <c>observation</c> keyed by
/// (subject, date, source), rejected rows into <c>import_rejection</c>, then <see cref="StatusMatching"/>
/// re-derives absences, matching and the collectivités' current status. Re-importing the same file is a
/// no-op (checksum); a corrected file for the same date replaces that snapshot's rows, and never touches
/// other dates' observations. With <c>dryRun</c> everything runs and is reported, then rolled back.
/// </summary>
public sealed class StatusImporter(NpgsqlDataSource db, TextWriter log)
{
    static readonly GeometryFactory Wgs84 = new(new PrecisionModel(), 4326);
    /// <summary>Bumped when the reader stores more or checks more (2: population column, alignment checks).</summary>
    const string ReaderVersion = ":lecteur-2";

    /// <summary>Limits of a plausible snapshot (issue #14): see <see cref="ImportGuards"/>.</summary>
    public ImportGuardOptions Guards { get; init; } = new();

    public async Task<StatusImportResult> ImportAsync(string path, DateOnly observedOn, bool complete = true, bool dryRun = false, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var source = "odf-" + observedOn.ToString("yyyy-MM-dd");
        var snapshot = OdfSnapshotReader.Read(path);
        // The reader's version is part of the identity: a file read by an older importer (without the
        // population column or the alignment checks) is read again instead of being skipped.
        var checksum = ImportFiles.Checksum([path]) + ReaderVersion;
        var file = Path.GetFileName(path);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("select checksum from status_snapshot where source = $1", conn))
        {
            cmd.Parameters.AddWithValue(source);
            if (!dryRun && await cmd.ExecuteScalarAsync(ct) as string == checksum)
            {
                log.WriteLine($"Instantané {source} déjà importé avec ce fichier ({file}) : aucune observation ajoutée.");
                return new StatusImportResult(true, source, snapshot.Rows.Count, snapshot.Rejected.Count,
                    new Dictionary<string, int>(), snapshot.Rejected, snapshot.Notices, [], snapshot.Checks);
            }
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        await ImportGuards.CaptureAsync(conn, ct); // import guard (issue #14): the state before any write
        int releaseId;
        await using (var cmd = new NpgsqlCommand("insert into data_release (kind, vintage, checksum) values ('status', $1, $2) returning id", conn, tx))
        {
            cmd.Parameters.AddWithValue(source);
            cmd.Parameters.AddWithValue(checksum);
            releaseId = (int)(await cmd.ExecuteScalarAsync(ct))!;
        }

        await conn.ExecAsync("""
            create temp table stage_obs (line int, siren char(9), name text, type text, departement text, region text,
              location geometry(Point, 4326), datasets_local int, datasets_datagouv int, platforms text, url text, population int) on commit drop
            """, ct);
        await conn.CopyAsync("stage_obs", snapshot.Rows, ct,
            new("line", NpgsqlDbType.Integer, r => r.Line), new("siren", NpgsqlDbType.Char, r => r.Siren),
            new("name", NpgsqlDbType.Text, r => r.Name), new("type", NpgsqlDbType.Text, r => r.Type),
            new("departement", NpgsqlDbType.Text, r => r.Departement), new("region", NpgsqlDbType.Text, r => r.Region),
            new("location", NpgsqlDbType.Geometry, r => r.Lat is { } lat && r.Lon is { } lon ? Wgs84.CreatePoint(new Coordinate(lon, lat)) : null),
            new("datasets_local", NpgsqlDbType.Integer, r => r.DatasetsLocal), new("datasets_datagouv", NpgsqlDbType.Integer, r => r.DatasetsDatagouv),
            new("platforms", NpgsqlDbType.Text, r => r.Platforms), new("url", NpgsqlDbType.Text, r => r.Url),
            new("population", NpgsqlDbType.Integer, r => r.Population));

        // Positional parameters allow one statement per command: the three run in order in the transaction.
        foreach (var sql in new[]
        {
            """
            delete from observation o where o.source = $1 and o.is_listed and $2::date is not null
               and not exists (select 1 from stage_obs s where s.siren = o.subject_key)
            """,
            """
            insert into observation (subject_key, observed_on, source, is_listed, datasets_local, datasets_datagouv, platforms, url,
                                     match_method, subject_siren, subject_name, subject_type, subject_departement, subject_region, location, source_line,
                                     subject_population)
            select siren, $2, $1, true, datasets_local, datasets_datagouv, platforms, url,
                   'unmatched', siren, name, type, departement, region, location, line, population
              from stage_obs
            on conflict (subject_key, observed_on, source) do update set
                   is_listed = true, datasets_local = excluded.datasets_local, datasets_datagouv = excluded.datasets_datagouv,
                   platforms = excluded.platforms, url = excluded.url, subject_siren = excluded.subject_siren,
                   subject_name = excluded.subject_name, subject_type = excluded.subject_type,
                   subject_departement = excluded.subject_departement, subject_region = excluded.subject_region,
                   location = excluded.location, source_line = excluded.source_line, subject_population = excluded.subject_population
            """,
            """
            insert into status_snapshot (source, observed_on, file, checksum, complete, row_count, release_id, checks)
            values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
            on conflict (source) do update set observed_on = excluded.observed_on, file = excluded.file, checksum = excluded.checksum,
                   complete = excluded.complete, row_count = excluded.row_count, release_id = excluded.release_id, checks = excluded.checks
            """,
        })
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.AddWithValue(source);
            cmd.Parameters.AddWithValue(observedOn);
            if (sql.Contains("$3"))
            {
                cmd.Parameters.AddWithValue(file);
                cmd.Parameters.AddWithValue(checksum);
                cmd.Parameters.AddWithValue(complete);
                cmd.Parameters.AddWithValue(snapshot.Rows.Count);
                cmd.Parameters.AddWithValue(releaseId);
                cmd.Parameters.AddWithValue(JsonSerializer.Serialize(snapshot.Checks.Select(c => new { code = c.Code, failed = c.Failed, message = c.Message })));
            }
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await InsertRejections(conn, releaseId, file, snapshot.Rejected, ct);

        await StatusMatching.RefreshAsync(conn, ct);

        // Outcome per row of this file, for the report.
        var byMethod = new Dictionary<string, int>();
        var notDirect = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            select o.match_method, o.source_line, o.subject_siren, o.subject_name, o.match_evidence
              from observation o where o.source = $1 and o.is_listed order by o.source_line
            """, conn, tx))
        {
            cmd.Parameters.AddWithValue(source);
            await using var rd = await cmd.ExecuteReaderAsync(ct);
            while (await rd.ReadAsync(ct))
            {
                var m = rd.GetString(0);
                byMethod[m] = byMethod.GetValueOrDefault(m) + 1;
                // Every match that is not a plain SIREN or code, and every actor decided otherwise than by its type.
                if (m is not ("siren" or "code") && !(m == "actor" && !rd.IsDBNull(4) && rd.GetString(4).StartsWith("type ", StringComparison.Ordinal)))
                    notDirect.Add($"ligne {rd.GetInt32(1)} {rd.GetString(2)} « {rd.GetString(3)} » : {m} — {(rd.IsDBNull(4) ? "" : rd.GetString(4))}");
            }
        }
        var report = JsonSerializer.Serialize(new
        {
            source, file, checksum, observedOn = observedOn.ToString("yyyy-MM-dd"), complete,
            rows = snapshot.Rows.Count, byMethod,
            checks = snapshot.Checks.Select(c => new { code = c.Code, failed = c.Failed, message = c.Message }),
            rejected = snapshot.Rejected.Select(r => new { line = r.Line, reason = r.Reason }),
            notices = snapshot.Notices.Select(r => new { line = r.Line, notice = r.Reason }),
            notDirect,
        });
        await using (var cmd = new NpgsqlCommand("update data_release set report = $2::jsonb where id = $1", conn, tx))
        {
            cmd.Parameters.AddWithValue(releaseId);
            cmd.Parameters.AddWithValue(report);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        // Import guard (issue #14): print the diff; refuse an implausible change (the transaction rolls back).
        await ImportGuards.CheckStatusAsync(conn, log, Guards, snapshot.Rows.Count, snapshot.Rejected.Count, dryRun, ct);

        if (dryRun) await tx.RollbackAsync(ct);
        else
        {
            await tx.CommitAsync(ct);
            // VACUUM (one per command, outside the transaction) keeps index-only scans for the counts.
            await conn.ExecAsync("vacuum (analyze) observation", ct);
            await conn.ExecAsync("vacuum (analyze) collectivite", ct);
        }

        var result = new StatusImportResult(false, source, snapshot.Rows.Count, snapshot.Rejected.Count, byMethod,
            snapshot.Rejected, snapshot.Notices, notDirect, snapshot.Checks);
        Print(result, file, sw.Elapsed, dryRun);
        return result;
    }

    void Print(StatusImportResult r, string file, TimeSpan elapsed, bool dryRun)
    {
        log.WriteLine($"Instantané {r.Source} ({file}){(dryRun ? " — essai à blanc, rien n'est écrit" : "")} : {r.Rows} lignes chargées, {r.Rejected} rejetées, {elapsed.TotalSeconds:F1} s");
        foreach (var c in r.Checks) log.WriteLine($"    {(c.Failed ? "CONTRÔLE ÉCHOUÉ" : "contrôle")} : {c.Message}");
        log.WriteLine("    rapprochement : " + string.Join(", ", r.ByMethod.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
        if (r.NotDirect.Count > 0) log.WriteLine($"    {r.NotDirect.Count} rapprochement(s) autres que par SIREN ou code, chacun avec sa preuve :");
        foreach (var n in r.Notices) log.WriteLine($"    ligne {n.Line} : {n.Reason}");
        foreach (var n in r.NotDirect) log.WriteLine("    " + n);
        foreach (var n in r.Rejections) log.WriteLine($"    REJETÉE ligne {n.Line} : {n.Reason}");
    }

    internal static Task InsertRejections(NpgsqlConnection conn, int releaseId, string file, IEnumerable<RowNote> rejected, CancellationToken ct) =>
        conn.CopyAsync("import_rejection", rejected, ct,
            new("release_id", NpgsqlDbType.Integer, _ => releaseId), new("file", NpgsqlDbType.Text, _ => file),
            new("line", NpgsqlDbType.Integer, r => r.Line), new("reason", NpgsqlDbType.Text, r => r.Reason), new("raw", NpgsqlDbType.Text, r => r.Raw));
}
