using System.Text;
using Npgsql;
using Observatoire.Api;

namespace Observatoire.Reports;

/// <summary>
/// /api/reports: the national report (PDF, XLSX), its tables as CSV, its charts as PNG/SVG, and the
/// ATD report. Every route takes <c>date</c> (yyyy-MM-dd, default: latest observation), the
/// filters <c>region</c> (INSEE code) and <c>atd</c> (ATD id), and <c>since</c> (yyyy-MM-dd, before
/// <c>date</c>: start of the « Changements » section, default the previous directory snapshot). Bad
/// parameters answer 400, an unknown ATD in the path 404, as French problem details.
/// </summary>
public static class ReportEndpoints
{
    public static IServiceCollection AddReports(this IServiceCollection services) => services.AddSingleton<ReportCache>();

    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/reports").WithTags("Rapports");
        const string xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

        g.MapGet("/national.pdf", (HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, null, "national.pdf", m => new(PdfReport.Render(m), "application/pdf", FileName(m, "pdf")), ct));

        g.MapGet("/national.xlsx", (HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, null, "national.xlsx", m => new(XlsxReport.Render(m), xlsx, FileName(m, "xlsx")), ct));

        g.MapGet("/atd/{id}.pdf", (string id, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, id, "atd.pdf", m => new(PdfReport.Render(m), "application/pdf", FileName(m, "pdf")), ct));

        g.MapGet("/atd/{id}.xlsx", (string id, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, id, "atd.xlsx", m => new(XlsxReport.Render(m), xlsx, FileName(m, "xlsx")), ct));

        g.MapGet("/charts/{chart}.{ext}", (string chart, string ext, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (!Charts.Names.Contains(chart) || ext is not ("png" or "svg"))
                return Task.FromResult(Problems.Of(404, "Graphique inconnu",
                    $"Graphiques disponibles : {string.Join(", ", Charts.Names)}, en .png ou .svg (ex. /api/reports/charts/progress.svg)."));
            return Run(req, db, null, $"chart:{chart}.{ext}", m => ext == "png"
                ? new(Charts.Png(chart, m), "image/png")
                : new(Encoding.UTF8.GetBytes(Charts.Svg(chart, m)), "image/svg+xml; charset=utf-8"), ct);
        });

        g.MapGet("/{table}.csv", (string table, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (!ReportTables.Names.Contains(table))
                return Task.FromResult(Problems.Of(404, "Table inconnue",
                    $"Tables disponibles : {string.Join(", ", ReportTables.Names)} (ex. /api/reports/regions.csv)."));
            // fr (the default): « ; » and decimal commas; rfc4180: « , » and decimal points.
            var p = new QueryParameters(req.Query);
            var format = p.OneOf("format", ["fr", "rfc4180"]);
            if (!p.IsValid) return Task.FromResult(p.Problem());
            var dialect = format == "rfc4180" ? CsvDialect.Rfc4180 : CsvDialect.French;
            return Run(req, db, null, $"csv:{table}:{dialect}", m => new(CsvReport.Render(ReportTables.Get(table, m), dialect),
                "text/csv; charset=utf-8", FileName(m, "csv", table)), ct);
        });
        return app;
    }

    static async Task<IResult> Run(HttpRequest req, NpgsqlDataSource db, string? pathAtd, string variant, Func<ReportModel, RenderedReport> render, CancellationToken ct)
    {
        var p = new QueryParameters(req.Query);
        var date = p.Date();
        var region = p.AreaCode("region");
        var atd = p.AtdId();
        var since = p.Date("since");
        if (!p.IsValid) return p.Problem();
        if (pathAtd is not null && atd is not null && atd != pathAtd)
            return Problems.BadParameter($"paramètre « atd » = « {atd} » : l'ATD est déjà celui du chemin (« {pathAtd} »).");
        var request = new ReportRequest(date, region, pathAtd ?? atd, since);
        try
        {
            var cache = req.HttpContext.RequestServices.GetRequiredService<ReportCache>();
            var report = await cache.GetOrRenderAsync(variant, request,
                async () => render(await new ReportModelBuilder(db).BuildAsync(request, ct)), ct);
            return report.ToResult();
        }
        catch (ReportInputException e)
        {
            // An unknown ATD named by the path is a missing resource; named by a filter, a bad parameter.
            var status = e.Status == 404 && pathAtd is null ? 400 : e.Status;
            return Problems.Of(status, e.Title, e.Message);
        }
    }

    static string FileName(ReportModel m, string ext, string? table = null)
    {
        var scope = m.Scope.AtdId is { } a ? $"atd-{a}" : "national";
        if (m.Scope.RegionCode is { } r) scope += $"-region-{r}";
        return $"observatoire-{scope}{(table is null ? "" : "-" + table)}-{m.AsOf:yyyy-MM-dd}.{ext}";
    }
}
