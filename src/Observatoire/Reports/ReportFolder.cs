using System.Globalization;
using System.Text;
using Npgsql;

namespace Observatoire.Reports;

/// <summary>
/// The <c>report</c> command: writes every format of one report into a dated folder
/// (OUT/yyyy-MM-dd/), for a scheduled job. Files are written to a temporary folder first and moved
/// into place, so a reader never sees half a report.
/// </summary>
public static class ReportFolder
{
    public static async Task<int> RunAsync(NpgsqlDataSource db, string[] args, TextWriter log, TextWriter err, CancellationToken ct = default)
    {
        string? Opt(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        foreach (var a in args.Where(a => a.StartsWith("--")))
            if (a is not ("--date" or "--since" or "--out" or "--region" or "--atd" or "--bench"))
            {
                err.WriteLine($"Option inconnue : {a} (voir « help »).");
                return 64;
            }
        DateOnly? date = null, since = null;
        foreach (var (option, set) in new (string, Action<DateOnly>)[] { ("--date", d => date = d), ("--since", d => since = d) })
        {
            if (Opt(option) is not { } ds) continue;
            if (!DateOnly.TryParseExact(ds, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                err.WriteLine($"Date invalide : « {ds} » (attendu AAAA-MM-JJ).");
                return 64;
            }
            set(d);
        }
        ReportModel model;
        try
        {
            if (Opt("--bench") is { } bench)
                return await BenchAsync(db, new ReportRequest(date, Opt("--region"), Opt("--atd"), since),
                    int.TryParse(bench, out var runs) ? Math.Clamp(runs, 1, 100) : 5, log, ct);
            model = await new ReportModelBuilder(db).BuildAsync(new ReportRequest(date, Opt("--region"), Opt("--atd"), since), ct);
        }
        catch (ReportInputException e)
        {
            err.WriteLine($"{e.Title} : {e.Message}");
            return 64;
        }
        var dir = await WriteAsync(model, Opt("--out") ?? "reports", ct);
        log.WriteLine($"Rapport au {Fr.Date(model.AsOf)} ({model.Scope.Label}) écrit dans {dir}");
        if (model.Notice is { } n) log.WriteLine("Avertissement : " + n);
        return 0;
    }

    /// <summary>
    /// scripts/bench-reports.sh: median times of the model (the SQL, the floor), then of the PDF and
    /// XLSX (model + rendering), in one process after a warm-up; one "key=value" line each.
    /// </summary>
    static async Task<int> BenchAsync(NpgsqlDataSource db, ReportRequest req, int runs, TextWriter log, CancellationToken ct)
    {
        var builder = new ReportModelBuilder(db);
        async Task<(double Ms, long Bytes)> Median(Func<Task<long>> work)
        {
            await work();   // warm-up: JIT, fonts, connection pool
            var times = new List<double>();
            long bytes = 0;
            for (var i = 0; i < runs; i++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                bytes = await work();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return (times[times.Count / 2], bytes);
        }
        var floor = await Median(async () => { await builder.BuildAsync(req, ct); return 0; });
        var pdf = await Median(async () => PdfReport.Render(await builder.BuildAsync(req, ct)).LongLength);
        var xlsx = await Median(async () => XlsxReport.Render(await builder.BuildAsync(req, ct)).LongLength);
        log.WriteLine(FormattableString.Invariant($"runs={runs}"));
        log.WriteLine(FormattableString.Invariant($"model_sql_ms={floor.Ms:0}"));
        log.WriteLine(FormattableString.Invariant($"pdf_ms={pdf.Ms:0} pdf_bytes={pdf.Bytes} pdf_ratio={pdf.Ms / floor.Ms:0.0}"));
        log.WriteLine(FormattableString.Invariant($"xlsx_ms={xlsx.Ms:0} xlsx_bytes={xlsx.Bytes} xlsx_ratio={xlsx.Ms / floor.Ms:0.0}"));
        return 0;
    }

    /// <summary>Writes all formats into OUT/yyyy-MM-dd (replacing a previous run for that date); returns the folder.</summary>
    public static async Task<string> WriteAsync(ReportModel m, string outDir, CancellationToken ct = default)
    {
        var name = m.AsOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            + (m.Scope.AtdId is { } a ? $"-atd-{a}" : "") + (m.Scope.RegionCode is { } r ? $"-region-{r}" : "");
        var final = Path.GetFullPath(Path.Combine(outDir, name));
        var tmp = final + ".tmp-" + Environment.ProcessId;
        Directory.CreateDirectory(Path.Combine(tmp, "charts"));
        var kind = m.Scope.AtdId is null ? "national" : "atd";
        await File.WriteAllBytesAsync(Path.Combine(tmp, $"{kind}.pdf"), PdfReport.Render(m), ct);
        await File.WriteAllBytesAsync(Path.Combine(tmp, $"{kind}.xlsx"), XlsxReport.Render(m), ct);
        foreach (var t in ReportTables.Names)
        {
            await File.WriteAllBytesAsync(Path.Combine(tmp, $"{t}.csv"), CsvReport.Render(ReportTables.Get(t, m), CsvDialect.French), ct);
            await File.WriteAllBytesAsync(Path.Combine(tmp, $"{t}.rfc4180.csv"), CsvReport.Render(ReportTables.Get(t, m), CsvDialect.Rfc4180), ct);
        }
        foreach (var c in Charts.Names)
        {
            await File.WriteAllBytesAsync(Path.Combine(tmp, "charts", $"{c}.png"), Charts.Png(c, m), ct);
            await File.WriteAllTextAsync(Path.Combine(tmp, "charts", $"{c}.svg"), Charts.Svg(c, m), new UTF8Encoding(false), ct);
        }
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(tmp, final);
        return final;
    }
}
