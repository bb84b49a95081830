using Observatoire.Data;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Import;
using Observatoire.Status;

namespace Observatoire.Atds;

/// <summary>
/// Imports the ATD registry (data/atd/atd.csv and accompanied-communes.csv, see data/atd/README.md) in ONE
/// transaction: the registry is replaced whole, then <see cref="AtdCoverage"/> recomputes perimeters and
/// coverage. Same files → same rows (no new release). A row with an unknown kind, an invalid SIREN or a
/// perimeter code absent from the reference list is reported with its line; the rest of the file loads.
/// </summary>
public sealed class AtdImporter(NpgsqlDataSource db, TextWriter log)
{
    public static readonly string[] Kinds = ["region", "departement", "epci", "commune", "syndicat", "gip", "agence", "other"];
    public static readonly string[] PerimeterTypes = ["region", "departements", "epci", "communes"];

    public sealed record AtdRow(int Line, string Id, string Name, string Kind, string? Scale, string? Siren, string? PerimeterType,
        string[] Codes, string[] Seasons, string? Source, string? Note);
    public sealed record AccompaniedRow(int Line, string AtdId, string Insee, string? Name, string? Phase, string? Source);

    /// <summary>
    /// One transaction: the registry replaced, the coverage recomputed. A file that would remove more than
    /// half of today's ATD is refused (<see cref="ImportRefusedException"/>) unless <paramref name="acceptLargeChange"/>;
    /// with <paramref name="dryRun"/> everything runs and is reported, then rolled back.
    /// </summary>
    public async Task ImportAsync(string directory, CancellationToken ct = default, bool dryRun = false, bool acceptLargeChange = false)
    {
        var atdPath = ImportFiles.Find(directory, "atd.csv");
        var accPath = ImportFiles.Find(directory, "accompanied-communes.csv");
        var checksum = ImportFiles.Checksum([atdPath, accPath]);
        var (atds, accompanied, rejected) = Read(atdPath, accPath);

        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("select checksum from data_release where kind = 'atd' order by id desc limit 1", conn))
            if (!dryRun && await cmd.ExecuteScalarAsync(ct) as string == checksum && await Count(conn, "atd", ct) > 0)
            {
                log.WriteLine("Registre des ATD déjà chargé avec ces fichiers : rien à faire.");
                return;
            }

        await using var tx = await conn.BeginTransactionAsync(ct);
        var release = await PlatformsAndMilestones.NewRelease(conn, "atd", "registre ATD", checksum, ct);

        // Codes must exist in the reference list: checked in the database, reported per line.
        var known = new HashSet<string>();
        await using (var cmd = new NpgsqlCommand("""
            select case when type = 'COM' then 'communes:' || code when type = 'DEP' then 'departements:' || code
                        when type = 'REG' then 'region:' || code when type = any(epci_types()) then 'epci:' || code end
              from collectivite where type in ('COM','DEP','REG') or type = any(epci_types())
            """, conn, tx))
        await using (var rd = await cmd.ExecuteReaderAsync(ct))
            while (await rd.ReadAsync(ct)) known.Add(rd.GetString(0));
        var kept = new List<AtdRow>();
        foreach (var a in atds)
        {
            var missing = a.Codes.Where(c => !known.Contains(a.PerimeterType + ":" + c)).ToList();
            if (missing.Count > 0) rejected.Add(new RowNote(a.Line, $"atd.csv : {a.Id} : code(s) de périmètre absent(s) du référentiel : {string.Join(" ", missing)}"));
            kept.Add(a with { Codes = a.Codes.Except(missing).ToArray() });
        }
        var ids = kept.Select(a => a.Id).ToHashSet();
        var keptAcc = new List<AccompaniedRow>();
        foreach (var c in accompanied)
        {
            if (!ids.Contains(c.AtdId)) rejected.Add(new RowNote(c.Line, $"accompanied-communes.csv : ATD « {c.AtdId} » inconnu"));
            else if (!known.Contains("communes:" + c.Insee)) rejected.Add(new RowNote(c.Line, $"accompanied-communes.csv : commune {c.Insee} absente du référentiel"));
            else keptAcc.Add(c);
        }

        var before = await Count(conn, "atd", ct);
        List<string> removed = before == 0 ? [] : await ListAsync(conn, "select id from atd where not (id = any($1)) order by id", ids.ToArray(), ct);
        if (before > 0 && removed.Count * 2 > before && !acceptLargeChange && !dryRun)
            throw new ImportRefusedException($"Le registre retirerait {removed.Count} des {before} ATD ({string.Join(", ", removed.Take(10))}{(removed.Count > 10 ? "…" : "")}) : "
                + "fichier incomplet ? Vérifiez-le par un essai, puis acceptez le changement s'il est réel.");
        await using (var cmd = new NpgsqlCommand("delete from accompanied_commune; delete from atd_coverage; delete from atd;", conn, tx))
            await cmd.ExecuteNonQueryAsync(ct);
        await conn.CopyAsync("atd", kept, ct,
            new("id", NpgsqlDbType.Text, a => a.Id), new("name", NpgsqlDbType.Text, a => a.Name), new("kind", NpgsqlDbType.Text, a => a.Kind),
            new("scale", NpgsqlDbType.Text, a => a.Scale), new("siren", NpgsqlDbType.Char, a => a.Siren),
            new("perimeter_type", NpgsqlDbType.Text, a => a.PerimeterType),
            new("perimeter_codes", NpgsqlDbType.Array | NpgsqlDbType.Text, a => a.Codes), new("seasons", NpgsqlDbType.Array | NpgsqlDbType.Text, a => a.Seasons),
            new("source", NpgsqlDbType.Text, a => a.Source), new("note", NpgsqlDbType.Text, a => a.Note));
        await conn.CopyAsync("accompanied_commune", keptAcc.DistinctBy(c => (c.AtdId, c.Insee)), ct,
            new("atd_id", NpgsqlDbType.Text, c => c.AtdId), new("insee", NpgsqlDbType.Text, c => c.Insee),
            new("name", NpgsqlDbType.Text, c => c.Name), new("phase", NpgsqlDbType.Text, c => c.Phase), new("source", NpgsqlDbType.Text, c => c.Source));
        await StatusImporter.InsertRejections(conn, release, "atd", rejected, ct);
        await AtdCoverage.RefreshAsync(conn, ct);
        var covered = await Count(conn, "(select distinct collectivite_id from atd_coverage) x", ct);
        if (dryRun) await tx.RollbackAsync(ct);
        else await tx.CommitAsync(ct);

        log.WriteLine($"Registre des ATD{(dryRun ? " — essai à blanc, rien n'est écrit" : "")} : {kept.Count} ATD ({before} avant), {keptAcc.Count} communes accompagnées, {covered:N0} collectivités couvertes, {rejected.Count} signalement(s).");
        if (removed.Count > 0) log.WriteLine($"    ATD retirés : {string.Join(", ", removed)}");
        foreach (var r in rejected) log.WriteLine($"    ligne {r.Line} : {r.Reason}");
    }

    static async Task<List<string>> ListAsync(NpgsqlConnection conn, string sql, string[] arg, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue(arg);
        var list = new List<string>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct)) list.Add(rd.GetString(0));
        return list;
    }

    public static (List<AtdRow>, List<AccompaniedRow>, List<RowNote>) Read(string atdPath, string accPath)
    {
        var rejected = new List<RowNote>();
        var atds = new List<AtdRow>();
        var t = CsvTable.Read(atdPath);
        int id = t.RequiredColumn("atd_id"), name = t.RequiredColumn("name"), kind = t.RequiredColumn("kind"), scale = t.Column("scale");
        int siren = t.Column("siren"), ptype = t.Column("perimeter_type"), codes = t.Column("perimeter_codes");
        int seasons = t.Column("seasons"), source = t.Column("source"), note = t.Column("note");
        var seen = new HashSet<string>();
        foreach (var (line, f, raw) in t.Records)
        {
            if (f.Length != t.Header.Length) { rejected.Add(new(line, $"atd.csv : {f.Length} colonnes au lieu de {t.Header.Length}", raw)); continue; }
            string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;
            string[] Multi(int i) => (Get(i) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var aid = Get(id);
            if (aid is null || !seen.Add(aid)) { rejected.Add(new(line, $"atd.csv : identifiant « {aid} » absent ou en double", raw)); continue; }
            var k = Get(kind);
            if (k is null || !Kinds.Contains(k)) { rejected.Add(new(line, $"atd.csv : {aid} : nature « {k} » inconnue ({string.Join(", ", Kinds)})", raw)); continue; }
            var s = Get(siren) is { } rs ? Siren.Clean(rs, out _) : null;
            if (s is not null && Siren.Problem(s) is { } problem) { rejected.Add(new(line, $"atd.csv : {aid} : {problem}", raw)); continue; }
            var p = Get(ptype);
            if (p is not null && !PerimeterTypes.Contains(p)) { rejected.Add(new(line, $"atd.csv : {aid} : type de périmètre « {p} » inconnu", raw)); continue; }
            atds.Add(new AtdRow(line, aid, Get(name) ?? aid, k, Get(scale), s, p, p is null ? [] : Multi(codes), Multi(seasons), Get(source), Get(note)));
        }

        var acc = new List<AccompaniedRow>();
        var ta = CsvTable.Read(accPath);
        int aAtd = ta.RequiredColumn("atd_id"), aInsee = ta.RequiredColumn("insee"), aName = ta.Column("name"), aPhase = ta.Column("phase"), aSource = ta.Column("source");
        foreach (var (line, f, raw) in ta.Records)
        {
            if (f.Length != ta.Header.Length) { rejected.Add(new(line, $"accompanied-communes.csv : {f.Length} colonnes au lieu de {ta.Header.Length}", raw)); continue; }
            string? Get(int i) => i >= 0 && !string.IsNullOrWhiteSpace(f[i]) ? f[i].Trim() : null;
            if (Get(aAtd) is not { } a || Get(aInsee) is not { } insee) { rejected.Add(new(line, "accompanied-communes.csv : ATD ou code INSEE absent", raw)); continue; }
            acc.Add(new AccompaniedRow(line, a, insee, Get(aName), Get(aPhase), Get(aSource)));
        }
        return (atds, acc, rejected);
    }

    static async Task<long> Count(NpgsqlConnection c, string from, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select count(*) from " + from, c);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
