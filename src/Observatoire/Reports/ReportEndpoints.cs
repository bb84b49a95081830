using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Observatoire.Reports;

/// <summary>
/// /api/reports: the national report (PDF, XLSX), its tables as CSV, its charts as PNG/SVG, and the
/// ATD report. Every route takes <c>date</c> (yyyy-MM-dd, default: latest observation) and the
/// filters <c>region</c> (INSEE code) and <c>atd</c> (ATD id). Bad parameters answer 400, an
/// unknown ATD in the path 404, as French problem details.
/// </summary>
public static partial class ReportEndpoints
{
    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/reports").WithTags("Rapports");

        g.MapGet("/national.pdf", (HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, null, m => Results.File(PdfReport.Render(m), "application/pdf", FileName(m, "pdf")), ct));

        g.MapGet("/national.xlsx", (HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, null, m => Results.File(XlsxReport.Render(m),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", FileName(m, "xlsx")), ct));

        g.MapGet("/atd/{id}.pdf", (string id, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
            Run(req, db, id, m => Results.File(PdfReport.Render(m), "application/pdf", FileName(m, "pdf")), ct));

        g.MapGet("/charts/{chart}.{ext}", (string chart, string ext, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (!Charts.Names.Contains(chart) || ext is not ("png" or "svg"))
                return Task.FromResult(Problem(404, "Graphique inconnu",
                    $"Graphiques disponibles : {string.Join(", ", Charts.Names)}, en .png ou .svg (ex. /api/reports/charts/progress.svg)."));
            return Run(req, db, null, m => ext == "png"
                ? Results.File(Charts.Png(chart, m), "image/png")
                : Results.Text(Charts.Svg(chart, m), "image/svg+xml", Encoding.UTF8), ct);
        });

        g.MapGet("/{table}.csv", (string table, HttpRequest req, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (!ReportTables.Names.Contains(table))
                return Task.FromResult(Problem(404, "Table inconnue",
                    $"Tables disponibles : {string.Join(", ", ReportTables.Names)} (ex. /api/reports/regions.csv)."));
            var format = req.Query["format"].ToString();
            if (format is not ("" or "fr" or "rfc4180"))
                return Task.FromResult(Problem(400, "Paramètre « format » invalide",
                    $"« {format} » n'est pas un format connu : omettez-le (CSV à la française : « ; », virgule décimale) ou donnez format=rfc4180 (« , », point décimal)."));
            var dialect = format == "rfc4180" ? CsvDialect.Rfc4180 : CsvDialect.French;
            return Run(req, db, null, m => Results.File(CsvReport.Render(ReportTables.Get(table, m), dialect),
                "text/csv; charset=utf-8", FileName(m, "csv", table)), ct);
        });
        return app;
    }

    static async Task<IResult> Run(HttpRequest req, NpgsqlDataSource db, string? pathAtd, Func<ReportModel, IResult> render, CancellationToken ct)
    {
        if (Parse(req, pathAtd) is not { } request) return BadRequest(req);
        try
        {
            var model = await new ReportModelBuilder(db).BuildAsync(request, ct);
            return render(model);
        }
        catch (ReportInputException e)
        {
            // An unknown ATD named by the path is a missing resource; named by a filter, a bad parameter.
            var status = e.Status == 404 && pathAtd is null ? 400 : e.Status;
            return Problem(status, e.Title, e.Message);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")] private static partial Regex AtdId();
    [GeneratedRegex("^[0-9]{2,3}$")] private static partial Regex RegionCode();

    /// <summary>The request's parameters, or null when one is malformed (BadRequest says which).</summary>
    static ReportRequest? Parse(HttpRequest req, string? pathAtd)
    {
        var q = req.Query;
        DateOnly? date = null;
        if (q["date"].ToString() is { Length: > 0 } ds)
        {
            if (!DateOnly.TryParseExact(ds, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                || d < ReportModelBuilder.MinDate || d > DateOnly.FromDateTime(DateTime.Today))
                return null;
            date = d;
        }
        var region = q["region"].ToString() is { Length: > 0 } r ? r : null;
        if (region is not null && !RegionCode().IsMatch(region)) return null;
        var atd = pathAtd ?? (q["atd"].ToString() is { Length: > 0 } a ? a : null);
        if (atd is not null && !AtdId().IsMatch(atd)) return null;
        if (pathAtd is not null && q["atd"].ToString() is { Length: > 0 } qa && qa != pathAtd) return null;
        return new ReportRequest(date, region, atd);
    }

    static IResult BadRequest(HttpRequest req)
    {
        var q = req.Query;
        var problems = new List<string>();
        var ds = q["date"].ToString();
        if (ds.Length > 0 && (!DateOnly.TryParseExact(ds, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            || d < ReportModelBuilder.MinDate || d > DateOnly.FromDateTime(DateTime.Today)))
            problems.Add($"date « {ds} » : attendu une date AAAA-MM-JJ entre {ReportModelBuilder.MinDate:yyyy-MM-dd} et aujourd'hui");
        var region = q["region"].ToString();
        if (region.Length > 0 && !RegionCode().IsMatch(region))
            problems.Add($"region « {region} » : attendu le code INSEE de la région (ex. 53)");
        var atd = q["atd"].ToString();
        if (atd.Length > 0 && !AtdId().IsMatch(atd))
            problems.Add($"atd « {atd} » : attendu l'identifiant d'un ATD (minuscules, chiffres et tirets, ex. rennes-metropole)");
        if (problems.Count == 0)
            problems.Add("l'identifiant d'ATD du chemin et le paramètre atd diffèrent, ou l'identifiant est mal formé");
        return Problem(400, "Paramètre invalide", string.Join(" ; ", problems) + ".");
    }

    static IResult Problem(int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status);

    static string FileName(ReportModel m, string ext, string? table = null)
    {
        var scope = m.Scope.AtdId is { } a ? $"atd-{a}" : "national";
        if (m.Scope.RegionCode is { } r) scope += $"-region-{r}";
        return $"observatoire-{scope}{(table is null ? "" : "-" + table)}-{m.AsOf:yyyy-MM-dd}.{ext}";
    }
}
