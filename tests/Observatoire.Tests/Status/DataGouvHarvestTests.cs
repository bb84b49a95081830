using System.Net.Http.Json;
using System.Text.Json;
using Observatoire.Import;
using Observatoire.Status;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// The data.gouv.fr harvest (issue #17): the udata export of organisations in TestData (real rows of
/// the directory, see its README) imported as dated observations. Expected answers come from a plain
/// reading of that file (split on <c>;</c>, quotes removed) and of the observations already stored,
/// not from the importer's reader.
/// </summary>
public sealed class DataGouvHarvestTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static readonly string File = Path.Combine(TestEnvironment.RepoRoot, "tests", "Observatoire.Tests", "Status", "TestData", "datagouv-organisations-2022-11-15.csv");

    /// <summary>The file's rows as a person reads them: column name → value.</summary>
    static List<Dictionary<string, string>> PlainRows()
    {
        var lines = System.IO.File.ReadAllLines(File);
        var header = lines[0].Split(';').Select(h => h.Trim('"')).ToArray();
        return lines.Skip(1).Select(l => header.Zip(l.Split(';').Select(v => v.Trim('"'))).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    [Fact]
    public void The_reader_refuses_a_file_of_another_format()
    {
        var odf = Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv");
        var e = Assert.Throws<ImportException>(() => DataGouvHarvest.Read(odf));
        Assert.Contains("séparateur « ; » attendu", e.Message);
    }

    [Fact]
    public async Task A_harvest_opens_what_it_sees_published_never_closes_and_loses_to_the_directory_on_the_same_day()
    {
        var rows = PlainRows();
        var usable = rows.Where(r => r["business_number_id"].Length is 9 or 14 && r["business_number_id"].All(char.IsAsciiDigit)
                                     && int.TryParse(r["metric.datasets"], out _)).ToList();
        var sirens = usable.Select(r => r["business_number_id"][..9]).ToArray();
        var bySiren = (await db.RowsAsync("select siren::text, id from collectivite where siren = any($1)", new object[] { sirens }))
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        var matched = usable.Where(r => bySiren.ContainsKey(r["business_number_id"][..9])).ToList();
        Assert.True(matched.Count >= 10, "the sample names at least ten collectivités");
        var before = (await db.RowsAsync("select collectivite_id, is_open, dataset_count from status_on('2022-11-15')"))
            .ToDictionary(r => (string)r[0]!, r => ((bool)r[1]!, r[2] as int?));

        // A dry run writes nothing.
        var log = new StringWriter();
        var observations = await db.ScalarAsync<long>("select count(*) from observation");
        await new DataGouvHarvest(db.DataSource, log).ImportAsync(File, new DateOnly(2022, 11, 15), dryRun: true);
        Assert.Equal(observations, await db.ScalarAsync<long>("select count(*) from observation"));
        Assert.Contains("essai à blanc", log.ToString());

        // Two rejected rows of 18 pass the guard's 10 %: refused, nothing written, until accepted.
        await Assert.ThrowsAsync<ImportRefusedException>(() => new DataGouvHarvest(db.DataSource, log).ImportAsync(File, new DateOnly(2022, 11, 15)));
        Assert.Equal(observations, await db.ScalarAsync<long>("select count(*) from observation"));
        var accept = new ImportGuardOptions { AcceptLargeChange = true };
        var result = await new DataGouvHarvest(db.DataSource, log) { Guards = accept }.ImportAsync(File, new DateOnly(2022, 11, 15));
        Assert.Equal(matched.Count, result.Matched);
        Assert.Equal(rows.Count(r => r["business_number_id"] == ""), result.WithoutSiren);
        // The unreadable SIRET and the unreadable count, each with its reason and line.
        Assert.Equal(rows.Count - usable.Count - result.WithoutSiren, result.Rejections.Count);
        Assert.Contains(result.Rejections, r => r.Reason.Contains("business_number_id") && r.Line == rows.FindIndex(x => x["slug"] == "siret-illisible") + 2);
        Assert.Contains(result.Rejections, r => r.Reason.Contains("metric.datasets") && r.Line == rows.FindIndex(x => x["slug"] == "compteur-illisible") + 2);
        Assert.Equal(result.Rejections.Count, await db.ScalarAsync<long>(
            "select count(*) from import_rejection j join status_snapshot s on s.release_id = j.release_id where s.source = 'datagouv-2022-11-15'"));

        var after = (await db.RowsAsync("select collectivite_id, is_open, dataset_count from status_on('2022-11-15')"))
            .ToDictionary(r => (string)r[0]!, r => ((bool)r[1]!, r[2] as int?));
        foreach (var r in matched)
        {
            var id = bySiren[r["business_number_id"][..9]];
            var n = int.Parse(r["metric.datasets"]);
            if (n > 0) Assert.Equal((true, (int?)n), after[id]); // open, with data.gouv.fr's count
            else Assert.Equal(before[id], after[id]);              // 0 datasets decides nothing
        }
        // Every collectivité the file does not name is as it was.
        var named = matched.Select(r => bySiren[r["business_number_id"][..9]]).ToHashSet();
        Assert.All(before.Where(b => !named.Contains(b.Key)), b => Assert.Equal(b.Value, after[b.Key]));

        // The collectivité the directory never listed is newly open between the last snapshot and the harvest,
        // and /api/changes names the harvest's observation; the one with 0 datasets is not a change.
        var client = db.App.CreateClient();
        var newly = matched.Where(r => int.Parse(r["metric.datasets"]) > 0 && !before[bySiren[r["business_number_id"][..9]]].Item1)
            .Select(r => bySiren[r["business_number_id"][..9]]).ToList();
        Assert.NotEmpty(newly);
        var changes = await client.GetFromJsonAsync<JsonElement>("/api/changes?from=2022-10-19&to=2022-11-15");
        Assert.Equal(newly.Order(), changes.GetProperty("newlyOpen").EnumerateArray().Select(i => i.GetProperty("id").GetString()).Order());
        Assert.All(changes.GetProperty("newlyOpen").EnumerateArray(), i => Assert.Equal("datagouv-2022-11-15", i.GetProperty("after").GetProperty("source").GetString()));
        Assert.Empty(changes.GetProperty("noLongerListed").EnumerateArray());

        // The card shows both sources and which one decides.
        var zero = bySiren[matched.Single(r => r["metric.datasets"] == "0")["business_number_id"][..9]];
        var card = await client.GetFromJsonAsync<JsonElement>($"/api/collectivites/{zero}");
        var history = card.GetProperty("history").EnumerateArray().ToList();
        var harvest = history.Single(o => o.GetProperty("source").GetString() == "datagouv-2022-11-15");
        Assert.False(harvest.GetProperty("decides").GetBoolean());
        Assert.Equal(0, harvest.GetProperty("datasetsDatagouv").GetInt32());
        Assert.StartsWith("odf-", history.Single(o => o.GetProperty("decides").GetBoolean()).GetProperty("source").GetString());
        Assert.True(card.GetProperty("open").GetBoolean());

        // Importing the same file again adds nothing.
        observations = await db.ScalarAsync<long>("select count(*) from observation");
        Assert.True((await new DataGouvHarvest(db.DataSource, log) { Guards = accept }.ImportAsync(File, new DateOnly(2022, 11, 15))).Skipped);
        Assert.Equal(observations, await db.ScalarAsync<long>("select count(*) from observation"));

        // On the directory's own day, the directory wins: the same file dated 2022-10-19 changes no status.
        var october = await db.RowsAsync("select collectivite_id, is_open, dataset_count from status_on('2022-10-19') order by 1");
        await new DataGouvHarvest(db.DataSource, log) { Guards = accept }.ImportAsync(File, new DateOnly(2022, 10, 19));
        var octoberAfter = await db.RowsAsync("select collectivite_id, is_open, dataset_count from status_on('2022-10-19') order by 1");
        var changed = october.Zip(octoberAfter).Where(p => !p.First.SequenceEqual(p.Second)).Select(p => (string)p.First[0]!).ToList();
        Assert.Equal(newly, changed); // only where the directory has nothing that day
    }
}
