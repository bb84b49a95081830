using System.Net.Http.Json;
using System.Text.Json;
using MiniExcelLibs;
using Observatoire.Indicators;
using Observatoire.Reports;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reports;

/// <summary>
/// On the real bundled data (both OpenDataFrance snapshots through the status import), every figure
/// of the report equals the indicator layer's and the API's for the same date and scope.
/// </summary>
public sealed class ReportReconciliationTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    static readonly DateOnly[] Dates = [new(2022, 4, 25), new(2022, 6, 1), new(2022, 10, 19)];

    [Fact]
    public async Task Headline_and_breakdowns_equal_the_indicator_layer()
    {
        var indicators = new IndicatorQueries(db.DataSource);
        var builder = new ReportModelBuilder(db.DataSource);
        foreach (var date in Dates)
        {
            var report = await builder.BuildAsync(new ReportRequest(date, null, null));
            var set = await indicators.ComputeAsync(new IndicatorFilter(Date: date));
            Assert.Equal((set.Collectivites, set.Obliged, set.Open, set.ObligedOpen),
                (report.Headline.Collectivites, report.Headline.Obliged, report.Headline.Open!.Value, report.Headline.ObligedOpen!.Value));
            Assert.True(set.Open > 0, $"aucune collectivité ouverte le {date}");

            foreach (var (by, rows) in new[] { ("type", report.Types), ("region", report.Regions) })
            {
                var expected = (await indicators.BreakdownAsync(new IndicatorFilter(Date: date), by))
                    .Where(r => r.Values.Collectivites > 0)
                    .ToDictionary(r => r.Key, r => (r.Values.Collectivites, r.Values.Obliged, r.Values.Open ?? 0, r.Values.ObligedOpen ?? 0));
                var actual = rows.Where(r => r.Collectivites > 0)
                    .ToDictionary(r => r.Key, r => (r.Collectivites, r.Obliged, r.Open ?? 0, r.ObligedOpen ?? 0));
                Assert.Equal(expected.OrderBy(x => x.Key), actual.OrderBy(x => x.Key));
            }
        }
    }

    [Fact]
    public async Task A_region_report_equals_the_indicators_filtered_by_region()
    {
        var date = new DateOnly(2022, 10, 19);
        var report = await new ReportModelBuilder(db.DataSource).BuildAsync(new ReportRequest(date, "53", null));
        var set = await new IndicatorQueries(db.DataSource).ComputeAsync(new IndicatorFilter(Date: date, Region: "53"));
        Assert.Equal((set.Collectivites, set.Obliged, set.Open, set.ObligedOpen),
            (report.Headline.Collectivites, report.Headline.Obliged, report.Headline.Open!.Value, report.Headline.ObligedOpen!.Value));
    }

    [Fact]
    public async Task The_report_open_count_is_the_progress_api_open_count()
    {
        var client = db.App.CreateClient();
        var progress = await client.GetFromJsonAsync<JsonElement>("/api/progress");
        var asOf = DateOnly.Parse(progress.GetProperty("asOf").GetString()!);
        var report = await new ReportModelBuilder(db.DataSource).BuildAsync(new ReportRequest(asOf, null, null));
        Assert.Equal(progress.GetProperty("open").GetInt64(), report.Headline.Open);
        Assert.Equal(2000, progress.GetProperty("goal").GetInt32());
    }

    /// <summary>(id, kind) of every change /api/changes lists, in its order.</summary>
    static async Task<List<(string Id, string Kind)>> ApiChanges(HttpClient client, string query)
    {
        var answer = await client.GetFromJsonAsync<JsonElement>("/api/changes?" + query);
        Assert.False(answer.GetProperty("truncated").GetBoolean());
        IEnumerable<(string, string)> List(string name, Func<JsonElement, string> kind) =>
            answer.GetProperty(name).EnumerateArray().Select(i => (i.GetProperty("id").GetString()!, kind(i)));
        return List("newlyOpen", _ => "newly_open").Concat(List("noLongerListed", _ => "no_longer_listed"))
            .Concat(List("datasetChanges", i => "datasets_" + i.GetProperty("change").GetString())).ToList();
    }

    /// <summary>
    /// The « Changements » section is /api/changes for the same dates and scope (one definition): the
    /// default start is the directory snapshot before the report's date (both bundled snapshots are loaded
    /// here); for an ATD report, the ATD's perimeter, and the région filter on top. Then the PDF shows the
    /// counts and the XLSX sheet « Changements » holds exactly those rows.
    /// </summary>
    [Fact]
    public async Task Changes_section_equals_the_changes_api()
    {
        var client = db.App.CreateClient();
        var builder = new ReportModelBuilder(db.DataSource);
        var october = new DateOnly(2022, 10, 19);
        var m = await builder.BuildAsync(new ReportRequest(october, null, null));
        Assert.Equal((new DateOnly(2022, 4, 25), october, "snapshot", true), (m.Changes.From, m.Changes.To, m.Changes.FromRule, m.Changes.ObservedFrom));
        var api = await ApiChanges(client, "from=2022-04-25&to=2022-10-19");
        Assert.Equal(api, m.Changes.Items.Select(c => (c.Id, c.Kind)));
        Assert.NotEmpty(api);
        Assert.False(m.Changes.Truncated);

        // The PDF: the dates and each count; the XLSX: every row, in the same order (read back with MiniExcel).
        var text = ReportTests.Normalize(await ReportTests.PdfText(await client.GetByteArrayAsync("/api/reports/national.pdf?date=2022-10-19")));
        Assert.Contains("Changements du 25 avril 2022 au 19 octobre 2022", text);
        Assert.Contains("recensement de l'annuaire précédant la date du rapport", text);
        foreach (var (label, n) in new[] { ("Nouvellement ouvertes", m.Changes.NewlyOpen), ("N'apparaissent plus ouvertes", m.Changes.NoLongerListed),
                     ("Jeux de données en hausse", m.Changes.DatasetsUp), ("Jeux de données en baisse", m.Changes.DatasetsDown) })
            Assert.Contains(ReportTests.Normalize($"{label} {Fr.Int(n)}"), text);
        if (m.Changes.Items.GroupBy(c => c.Kind).Any(g => g.Count() > PdfReport.ChangeRowsPerKindInPdf))
            Assert.Contains("/api/changes?from=2022-04-25&to=2022-10-19&format=csv", text.Replace(" ", ""));
        var sheet = Sheet(await client.GetByteArrayAsync("/api/reports/national.xlsx?date=2022-10-19"));
        var table = ChangeQueries.Table(m.Changes.Items);
        Assert.Equal(table.Rows.Select(r => ((string)r[1]!, (string)r[0]!)), sheet.Select(r => ((string)r["Identifiant"]!, (string)r["Changement"]!)));
        Assert.Equal(m.Changes.Items.Select(c => c.After?.Id), sheet.Select(r => r["Observation après (n°)"] is { } v ? Convert.ToInt64(v) : (long?)null));

        // An ATD report: its perimeter, then with the région filter on top (the ATD with the most changes).
        var atd = await db.ScalarAsync<string>("""
            select ac.atd_id from changes_between('2022-04-25', '2022-10-19') x join atd_coverage ac on ac.collectivite_id = x.collectivite_id
             group by 1 order by count(*) desc, 1 limit 1
            """);
        var a = await builder.BuildAsync(new ReportRequest(october, null, atd));
        var atdApi = await ApiChanges(client, $"from=2022-04-25&to=2022-10-19&atd={atd}");
        Assert.NotEmpty(atdApi);
        Assert.Equal(atdApi, a.Changes.Items.Select(c => (c.Id, c.Kind)));
        // Only its perimeter (the national list may be all inside it: few real changes between the bundled editions).
        Assert.True(atdApi.Count <= api.Count);
        Assert.Equal(atdApi.Count, await db.ScalarAsync<long>("select count(*) from atd_coverage where atd_id = $1 and collectivite_id = any($2)",
            atd, atdApi.Select(c => c.Id).ToArray()));
        var region = await db.ScalarAsync<string>("""
            select c.region_code from changes_between('2022-04-25', '2022-10-19') x join collectivite c on c.id = x.collectivite_id
              join atd_coverage ac on ac.collectivite_id = c.id and ac.atd_id = $1 group by 1 order by count(*) desc, 1 limit 1
            """, atd);
        var ar = await builder.BuildAsync(new ReportRequest(october, region, atd));
        Assert.Equal(await ApiChanges(client, $"from=2022-04-25&to=2022-10-19&atd={atd}&region={region}"), ar.Changes.Items.Select(c => (c.Id, c.Kind)));
        var atdSheet = Sheet(await client.GetByteArrayAsync($"/api/reports/atd/{atd}.xlsx?date=2022-10-19"));
        Assert.Equal(atdApi.Select(c => c.Id), atdSheet.Select(r => (string)r["Identifiant"]!));
        var atdText = ReportTests.Normalize(await ReportTests.PdfText(await client.GetByteArrayAsync($"/api/reports/atd/{atd}.pdf?date=2022-10-19")));
        Assert.Contains(ReportTests.Normalize($"Nouvellement ouvertes {Fr.Int(a.Changes.NewlyOpen)}"), atdText);

        // since= overrides the start, as /api/changes?from= would.
        var since = await builder.BuildAsync(new ReportRequest(october, null, null, new DateOnly(2022, 1, 1)));
        Assert.False(since.Changes.ObservedFrom);
        Assert.Equal(await ApiChanges(client, "from=2022-01-01&to=2022-10-19"), since.Changes.Items.Select(c => (c.Id, c.Kind)));
    }

    /// <summary>
    /// From the raw OpenDataFrance files alone: a collectivité newly open since a date was listed in October
    /// and not on that date, so there are at most as many as SIRENs of October absent from the earlier file
    /// (the bundled April and October files list the same SIRENs: the bound is then 0, and what changed
    /// between them is dataset counts); since a date before any observation, at most as many as October's
    /// SIRENs. And a commune whose SIREN is in that difference (and whose name is not in the earlier file),
    /// when the import matched its October row, is newly open.
    /// </summary>
    [Fact]
    public async Task Newly_open_collectivites_are_bounded_by_the_raw_snapshots()
    {
        var april = RawOdf.April;
        var october = RawOdf.October;
        var communes = RawCog.CurrentCommunes.Where(c => (string?)c["siren"] is not null)
            .ToDictionary(c => (string)c["siren"]!, c => (Code: (string)c["code"]!, Name: (string)c["nom"]!));
        var builder = new ReportModelBuilder(db.DataSource);
        foreach (var (since, earlier) in new (DateOnly? Since, List<RawOdf.Row> Earlier)[] { (null, april), (new DateOnly(2022, 1, 1), []) })
        {
            var m = await builder.BuildAsync(new ReportRequest(new DateOnly(2022, 10, 19), null, null, since));
            Assert.Equal(since ?? new DateOnly(2022, 4, 25), m.Changes.From);
            var earlierSirens = earlier.Select(r => r.Siren).ToHashSet();
            var earlierNames = earlier.Select(r => RawOdf.Key(r["nom"])).ToHashSet();
            var onlyOctober = october.Where(r => r.Siren.Length == 9 && !earlierSirens.Contains(r.Siren)).ToList();
            Assert.InRange(m.Changes.NewlyOpen, 0, onlyOctober.Select(r => r.Siren).Distinct().Count());
            var onlyEarlier = earlierSirens.Except(october.Select(r => r.Siren)).Count(s => s.Length == 9);
            Assert.InRange(m.Changes.NoLongerListed, 0, onlyEarlier);

            var sample = onlyOctober
                .Where(r => communes.TryGetValue(r.Siren, out var c) && !earlierNames.Contains(RawOdf.Key(c.Name)) && !earlierNames.Contains(RawOdf.Key(r["nom"])))
                .Select(r => communes[r.Siren]).DistinctBy(c => c.Code).Take(20).Select(c => c.Code).ToArray();
            // "If matched": a row the import rejected or matched elsewhere is not counted.
            var matched = (await db.RowsAsync("""
                select distinct c.code from observation o join collectivite c on c.id = o.collectivite_id
                 where o.observed_on = '2022-10-19' and o.is_listed and c.type = 'COM' and c.code = any($1)
                """, new object[] { sample })).Select(r => (string)r[0]!).ToList();
            if (since is not null) Assert.NotEmpty(matched);
            var newly = m.Changes.Items.Where(c => c.Kind == "newly_open" && c.Type == "COM").Select(c => c.Code).ToHashSet();
            Assert.All(matched, code => Assert.Contains(code, newly));
        }
    }

    static List<IDictionary<string, object?>> Sheet(byte[] xlsx) =>
        new MemoryStream(xlsx).Query(useHeaderRow: true, sheetName: "Changements").Cast<IDictionary<string, object?>>().ToList();
}
