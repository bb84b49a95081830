using System.Text.Json;
using Observatoire.Status;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

public sealed class StatusImportTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static string OctoberPath => Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv");
    static string AprilPath => Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-04-25.csv");

    async Task<HashSet<string>> OpenCodes(string type, string date) =>
        (await db.RowsAsync("""
            select c.code from status_on($1::date) s join collectivite c on c.id = s.collectivite_id
             where s.is_open and c.type = any($2)
            """, DateOnly.Parse(date), type == "EPCI" ? Expected.EpciTypes : new[] { type }))
        .Select(r => (string)r[0]!).ToHashSet();

    [Fact]
    public async Task Communes_departements_and_regions_open_on_2022_10_19_match_the_raw_file()
    {
        var rows = RawOdf.October;
        Assert.Equal(Expected.OpenCommunes(rows).Order(), (await OpenCodes("COM", "2022-10-19")).Order());
        Assert.Equal(Expected.OpenDepartements(rows).Order(), (await OpenCodes("DEP", "2022-10-19")).Order());
        Assert.Equal(Expected.OpenRegions(rows).Order(), (await OpenCodes("REG", "2022-10-19")).Order());

        // EPCI: every EPCI named by its SIREN is open; the others open are resolved by name or location, each with evidence.
        var direct = Expected.DirectEpci(rows);
        var open = await OpenCodes("EPCI", "2022-10-19");
        Assert.Subset(open, direct.Where(s => RawCog.Epci.Any(e => (string)e!["code"]! == s && (string)e!["type"]! != "EPT")).ToHashSet());
        var byLocation = (await db.RowsAsync("""
            select distinct c.code from observation o join collectivite c on c.id = o.collectivite_id
             where o.source = 'odf-2022-10-19' and o.match_method in ('location','name') and c.type = any(epci_types()) and o.match_evidence like 'SIREN % absent%'
            """)).Select(r => (string)r[0]!).ToHashSet();
        Assert.Equal(direct.Intersect(open).Union(byLocation).Order(), open.Order());
        // Every row of the file ends matched (with evidence when not direct), an associated actor, or unmatched with a reason.
        Assert.Equal(rows.Count, await db.ScalarAsync<int>("select count(*) from observation where source = 'odf-2022-10-19' and is_listed"));
        Assert.Equal(0, await db.ScalarAsync<int>("""
            select count(*) from observation where source = 'odf-2022-10-19'
               and ((match_method not in ('siren') and coalesce(match_evidence, '') = '')
                 or (match_method = 'unmatched' and collectivite_id is not null))
            """));
        // Types outside the reference list are associated actors, with their point when the files give one.
        // Plus the rows typed as an EPCI whose body is larger than the EPCI around their point (a PETR).
        var actorRows = rows.Count(r => r["type"] is "AGCT" or "OACT" or "OAGT" or "DSPT" or "SDE")
            + await db.ScalarAsync<int>("select count(*) from observation where source = 'odf-2022-10-19' and match_method = 'actor' and subject_type = any(epci_types())");
        Assert.Equal(actorRows, await db.ScalarAsync<int>("select count(*) from associated_actor"));
        Assert.Equal(actorRows, await db.ScalarAsync<int>("select count(*) from observation where source = 'odf-2022-10-19' and match_method = 'actor'"));
    }

    [Fact]
    public async Task Rennes_is_open_with_its_dataset_counts_from_the_file()
    {
        var raw = RawOdf.October.Single(r => r.Siren == "213502388");
        int? local = raw["nb-ptf"] is { Length: > 0 } a ? int.Parse(a) : null, dg = raw["nb-datagouv"] is { Length: > 0 } b ? int.Parse(b) : null;
        var row = (await db.RowsAsync("""
            select c.is_open, c.dataset_count, c.first_seen_open, o.datasets_local, o.datasets_datagouv, o.match_method
              from collectivite c join observation o on o.collectivite_id = c.id and o.source = 'odf-2022-10-19'
             where c.siren = '213502388'
            """)).Single();
        Assert.True((bool)row[0]!);
        Assert.Equal(local, (int?)row[3]);
        Assert.Equal(dg, (int?)row[4]);
        Assert.Equal(local is null && dg is null ? null : (local ?? 0) + (dg ?? 0), (int?)row[1]);
        Assert.Equal("siren", row[5]);
        // Listed in the April snapshot too: first seen open then.
        Assert.Contains(RawOdf.April, r => r.Siren == "213502388");
        Assert.Equal(new DateOnly(2022, 4, 25), row[2] is DateOnly d ? d : DateOnly.FromDateTime((DateTime)row[2]!));
    }

    [Fact]
    public async Task A_siren_with_a_trailing_space_matches_and_the_invisible_character_is_reported()
    {
        var trailing = RawOdf.October.First(r => r["type"] == "COM" && r["siren"] != r["siren"].Trim() && r["siren"].Trim().All(char.IsAsciiDigit));
        Assert.Equal("siren", await db.ScalarAsync<string>(
            "select o.match_method from observation o join collectivite c on c.id = o.collectivite_id where o.source = 'odf-2022-10-19' and c.siren = $1",
            trailing.Siren));

        var invisible = RawOdf.October.Single(r => r["siren"].Contains('\u200E'));
        var report = JsonDocument.Parse(await db.ScalarAsync<string>(
            "select report::text from data_release where kind = 'status' and vintage = 'odf-2022-10-19' order by id desc limit 1"));
        var notices = report.RootElement.GetProperty("notices").EnumerateArray()
            .Select(n => (n.GetProperty("line").GetInt32(), n.GetProperty("notice").GetString()!)).ToList();
        Assert.Contains(notices, n => n.Item1 == invisible.Line && n.Item2.Contains("U+200E") && n.Item2.Contains(invisible.Siren));
        Assert.Contains(notices, n => n.Item1 == trailing.Line && n.Item2.Contains("espace final"));
    }

    [Fact]
    public async Task A_luhn_failure_is_rejected_with_its_line_and_nothing_is_written()
    {
        // The real file with one commune's SIREN altered by one digit (which always breaks the Luhn key).
        var lines = File.ReadAllLines(OctoberPath);
        var target = RawOdf.October.First(r => r["type"] == "COM" && r["siren"] == r.Siren);
        var broken = target.Siren[..8] + (char)('0' + (target.Siren[8] - '0' + 1) % 10);
        lines[target.Line - 1] = lines[target.Line - 1].Replace(target.Siren, broken);
        var tmp = Path.Combine(Path.GetTempPath(), $"odf-luhn-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(tmp, lines);
        try
        {
            var before = await db.ScalarAsync<long>("select count(*) from observation");
            var releases = await db.ScalarAsync<long>("select count(*) from data_release");
            var r = await new StatusImporter(db.DataSource, TextWriter.Null).ImportAsync(tmp, new DateOnly(2022, 10, 19), dryRun: true);
            var rejection = Assert.Single(r.Rejections);
            Assert.Equal(target.Line, rejection.Line);
            Assert.Contains("Luhn", rejection.Reason);
            Assert.Equal(RawOdf.October.Count - 1, r.Rows);
            Assert.Equal(before, await db.ScalarAsync<long>("select count(*) from observation"));
            Assert.Equal(releases, await db.ScalarAsync<long>("select count(*) from data_release"));
        }
        finally { File.Delete(tmp); }
    }

    [Fact]
    public async Task A_corrupt_file_is_refused_whole_in_french()
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"odf-bad-{Guid.NewGuid():N}.csv");
        await File.WriteAllBytesAsync(tmp, [0x1F, 0x8B, 0x00, 0xFF, 0xFE, 0x00, 0x41]);
        try
        {
            var e = await Assert.ThrowsAsync<Observatoire.Import.ImportException>(() =>
                new StatusImporter(db.DataSource, TextWriter.Null).ImportAsync(tmp, new DateOnly(2022, 10, 19)));
            Assert.Contains("UTF-8", e.Message);
        }
        finally { File.Delete(tmp); }
    }

    [Fact]
    public async Task The_old_siren_of_metropole_europeenne_de_lille_resolves_to_the_current_metropole()
    {
        var mel = RawCog.Epci.Single(e => RawOdf.Key((string)e!["nom"]!) == "metropole europeenne de lille")!;
        var raw = RawOdf.October.Single(r => RawOdf.Key(r["nom"]) == "metropole europeenne de lille");
        Assert.NotEqual((string)mel["code"]!, raw.Siren); // the file has the SIREN from before the 2020 merger
        var row = (await db.RowsAsync("""
            select o.collectivite_id, o.match_method, o.match_evidence, c.is_open from observation o
              join collectivite c on c.id = o.collectivite_id where o.subject_key = $1 and o.source = 'odf-2022-10-19'
            """, raw.Siren)).Single();
        Assert.Equal("EPCI-" + (string)mel["code"]!, row[0]);
        Assert.Contains((string)row[1]!, new[] { "name", "location", "merger" });
        Assert.Contains(raw.Siren, (string)row[2]!);
        Assert.True((bool)row[3]!);
    }

    [Fact]
    public async Task An_epci_whose_siren_changed_but_kept_its_name_resolves_by_name_not_by_a_misplaced_point()
    {
        // The directory's point for CA Paris - Vallée de la Marne (77) falls inside the Métropole du Grand Paris.
        static string Key(string name) => System.Text.RegularExpressions.Regex.Replace(RawOdf.Key(name), "^(ca|cc|cu|metropole)( (de la|du|de))? ", "");
        var raw = RawOdf.October.Single(r => Key(r["nom"]) == "paris vallee de la marne");
        var epci = RawCog.Epci.Single(e => Key((string)e!["nom"]!) == "paris vallee de la marne")!;
        Assert.NotEqual((string)epci["code"]!, raw.Siren);
        var row = (await db.RowsAsync("select collectivite_id, match_method from observation where subject_key = $1 and source = 'odf-2022-10-19'", raw.Siren)).Single();
        Assert.Equal(("EPCI-" + (string)epci["code"]!, "name"), ((string)row[0]!, (string)row[1]!));
    }

    [Fact]
    public async Task Reimporting_adds_no_observation_and_older_after_newer_keeps_the_current_status()
    {
        const string stateSql = "select id, is_open, dataset_count, first_seen_open, last_observed_on from collectivite order by id";
        string State(List<object?[]> rows) => string.Join("\n", rows.Select(r => string.Join("|", r)));
        var before = State(await db.RowsAsync(stateSql));
        var count = await db.ScalarAsync<long>("select count(*) from observation");
        var importer = new StatusImporter(db.DataSource, TextWriter.Null);

        // Same file: skipped. Same content under another name (new checksum): upserted, still no new row.
        Assert.True((await importer.ImportAsync(OctoberPath, new DateOnly(2022, 10, 19))).Skipped);
        var copy = Path.Combine(Path.GetTempPath(), $"copie-{Guid.NewGuid():N}.csv");
        File.Copy(OctoberPath, copy);
        try { Assert.False((await importer.ImportAsync(copy, new DateOnly(2022, 10, 19))).Skipped); }
        finally { File.Delete(copy); }
        Assert.Equal(count, await db.ScalarAsync<long>("select count(*) from observation"));
        Assert.Equal(before, State(await db.RowsAsync(stateSql)));

        // Start again from no status, newer snapshot first, then the older one.
        await using (var cmd = db.DataSource.CreateCommand("delete from observation; delete from status_snapshot; delete from associated_actor;"))
            await cmd.ExecuteNonQueryAsync();
        await importer.ImportAsync(OctoberPath, new DateOnly(2022, 10, 19));
        await importer.ImportAsync(AprilPath, new DateOnly(2022, 4, 25));
        Assert.Equal(count, await db.ScalarAsync<long>("select count(*) from observation"));
        Assert.Equal(before, State(await db.RowsAsync(stateSql)));
        await db.AssertStatusRunsAreCurrentAsync();
    }

    [Fact]
    public async Task An_organisation_absent_from_a_later_complete_snapshot_is_observed_not_listed()
    {
        var rennes = RawOdf.October.Single(r => r.Siren == "213502388");
        var lines = File.ReadAllLines(OctoberPath).Where((_, i) => i != rennes.Line - 1).ToArray();
        var tmp = Path.Combine(Path.GetTempPath(), $"odf-2023-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(tmp, lines);
        try
        {
            await new StatusImporter(db.DataSource, TextWriter.Null).ImportAsync(tmp, new DateOnly(2023, 1, 1));
            var row = (await db.RowsAsync("""
                select c.is_open, c.first_seen_open, c.last_observed_on,
                       (select count(*) from observation o where o.collectivite_id = c.id and not o.is_listed and o.observed_on = '2023-01-01')
                  from collectivite c where c.siren = '213502388'
                """)).Single();
            Assert.False((bool)row[0]!);
            Assert.Equal(new DateOnly(2022, 4, 25), row[1] is DateOnly d ? d : DateOnly.FromDateTime((DateTime)row[1]!));
            Assert.Equal(1L, (long)row[3]!);
            Assert.True(await db.ScalarAsync<bool>("select is_open from status_on('2022-12-31') s where s.collectivite_id = 'COM-35238'"));
        }
        finally
        {
            File.Delete(tmp);
            // Back to the bundled state for the other tests.
            await using var conn = await db.DataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await using (var cmd = new Npgsql.NpgsqlCommand("delete from observation where source = 'odf-2023-01-01'; delete from status_snapshot where source = 'odf-2023-01-01';", conn, tx))
                await cmd.ExecuteNonQueryAsync();
            await StatusMatching.RefreshAsync(conn);
            await tx.CommitAsync();
        }
        Assert.True(await db.ScalarAsync<bool>("select is_open from collectivite where siren = '213502388'"));
    }
}
