using System.Net.Http.Json;
using System.Text.Json;
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
}
