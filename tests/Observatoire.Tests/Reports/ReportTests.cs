using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ExcelDataReader;
using Observatoire.Reports;

namespace Observatoire.Tests.Reports;

/// <summary>
/// Reports against real data: expected figures are computed here from the raw source files (COG
/// JSON, OpenDataFrance CSV), and reconciled with status_on(date) and direct SQL on the same database.
/// </summary>
[Collection(ReportsCollection.Name)]
public sealed class ReportTests(ReportsDatabase db)
{
    const int Threshold = 3500;   // legal obligation threshold, restated here on purpose (independent of the app)

    Task<ReportModel> Build(DateOnly? date, string? region = null, string? atd = null, DateOnly? since = null) =>
        new ReportModelBuilder(db.DataSource).BuildAsync(new ReportRequest(date, region, atd, since));

    (long Open, long ObligedOpen, long PopOpenCommunes) Expected(HashSet<string> sirens)
    {
        var rows = sirens.Select(s => db.Raw[s]).ToList();
        return (rows.Count, rows.Count(r => r.Population >= Threshold), rows.Where(r => r.Kind == "COM").Sum(r => r.Population));
    }

    [Fact]
    public async Task Headline_matches_the_raw_snapshot()
    {
        var m = await Build(ReportsDatabase.October);
        var (open, obligedOpen, pop) = Expected(db.OctoberSirens);
        Assert.False(m.BeforeFirstObservation);
        Assert.Equal(open, m.Headline.Open);
        Assert.Equal(obligedOpen, m.Headline.ObligedOpen);
        Assert.Equal(pop, m.Headline.PopulationOpenCommunes);
        Assert.True(open > 500, "the October snapshot names several hundred collectivités of the list");
        // Obliged communes by the raw populations.
        // (The communes of the collectivités d'outre-mer are outside the obligation and the national scope.)
        var obligedCommunes = Infrastructure.RawCog.CurrentCommunes.Count(c => (long?)c["population"] >= Threshold && (string?)c["zone"] != "com");
        Assert.Equal(obligedCommunes, m.Types.Single(t => t.Key == "COM").Obliged);
        Assert.Equal((double)m.Headline.ObligedOpen! / m.Headline.Obliged, m.Headline.Rate!.Value, 4);   // the indicator layer's 4 decimals
        // Band 20000-49999 of communes, from the raw file.
        var band = db.OctoberSirens.Select(s => db.Raw[s]).Count(r => r.Kind == "COM" && r.Population is >= 20_000 and < 50_000);
        Assert.Equal(band, m.Bands.Single(b => b.Key == "20000-49999").Open);
        // Default date = latest observation.
        Assert.Equal(ReportsDatabase.October, (await Build(null)).AsOf);
    }

    [Theory]
    [InlineData("2022-04-25")]
    [InlineData("2022-06-01")]
    [InlineData("2022-10-19")]
    [InlineData("2024-01-01")]
    public async Task Figures_equal_status_on_and_direct_sql(string day)
    {
        var date = DateOnly.Parse(day, CultureInfo.InvariantCulture);
        var m = await Build(date);
        var totals = (await db.RowsAsync("""
            select count(*) filter (where s.is_open), count(*) filter (where s.is_open and c.is_obliged), count(*) filter (where c.is_obliged)
              from status_on($1) s join collectivite c on c.id = s.collectivite_id
            """, date)).Single();
        Assert.Equal((long)totals[0]!, m.Headline.Open);
        Assert.Equal((long)totals[1]!, m.Headline.ObligedOpen);
        Assert.Equal((long)totals[2]!, m.Headline.Obliged);
        var expected = date < ReportsDatabase.October ? db.AprilSirens.Count : db.OctoberSirens.Count;
        Assert.Equal(expected, m.Headline.Open);

        var regions = (await db.RowsAsync("""
            select c.region_code, count(*) filter (where c.is_obliged), count(*) filter (where c.is_obliged and s.is_open)
              from status_on($1) s join collectivite c on c.id = s.collectivite_id group by 1
            """, date)).ToDictionary(r => (string)r[0]!, r => ((long)r[1]!, (long)r[2]!));
        foreach (var r in m.Regions)
            Assert.Equal(regions[r.Key], (r.Obliged, r.ObligedOpen!.Value));
        Assert.Equal(m.Headline.Open, m.Progress.Points.Last(p => p.Kind == Observatoire.Indicators.ProgressKind.Observed).Open);

        var inside = (await db.RowsAsync("""
            select count(*) filter (where c.is_obliged), count(*) filter (where c.is_obliged and s.is_open)
              from status_on($1) s join collectivite c on c.id = s.collectivite_id
             where exists (select 1 from atd_coverage a where a.collectivite_id = c.id)
            """, date)).Single();
        Assert.Equal((long)inside[0]!, m.Atd.Inside.Obliged);
        Assert.Equal((long)inside[1]!, m.Atd.Inside.ObligedOpen);
        Assert.Equal(m.Headline.Obliged, m.Atd.Inside.Obliged + m.Atd.Outside.Obliged);
    }

    [Fact]
    public async Task Atd_scope_and_todo_list_match_the_raw_perimeter()
    {
        var m = await Build(ReportsDatabase.October, atd: "rennes-metropole");
        var members = db.Raw.Where(kv => kv.Value.Kind == "COM" && kv.Value.Epci == "243500139").ToList();
        var obliged = members.Where(kv => kv.Value.Population >= Threshold).ToList();
        var todo = obliged.Where(kv => !db.OctoberSirens.Contains(kv.Key)).OrderByDescending(kv => kv.Value.Population).ToList();
        var row = Assert.Single(m.Atd.Atds);
        Assert.Equal(obliged.Count + 1, row.Obliged);   // + the EPCI itself
        Assert.Equal(todo.Count + (db.OctoberSirens.Contains("243500139") ? 0 : 1), m.Todo.Total);
        Assert.Contains(m.Todo.Items, i => i.Name == todo[0].Value.Name);
        Assert.Equal("Périmètre de l'ATD Rennes Métropole", m.Scope.Label);

        var text = await PdfText(await Get("/api/reports/atd/rennes-metropole.pdf?date=2022-10-19"));
        Assert.Contains("Liste « à faire »", text);
        Assert.Contains(todo[0].Value.Name, text);
        Assert.Contains("Rennes Métropole", text);
    }

    [Fact]
    public async Task National_pdf_renders_with_headings_and_figures()
    {
        var pdf = await Get("/api/reports/national.pdf?date=2022-10-19");
        Assert.StartsWith("%PDF", Encoding.ASCII.GetString(pdf, 0, 4));
        var m = await Build(ReportsDatabase.October);
        var text = Normalize(await PdfText(pdf));
        foreach (var heading in new[] { "Chiffres clés", "Progression", "Par strate de population", "Par type de collectivité",
                     "Par région", "Réseau des ATD", "Les plus longues listes", "Sources et licences", "Notes de méthode", "ODbL 1.0" })
            Assert.Contains(heading, text);
        Assert.Contains("19 octobre 2022", text);
        // Tiles sit side by side: pdftotext may interleave their lines, so check the figures, not sentences.
        var open = Expected(db.OctoberSirens).Open;
        Assert.Contains(Normalize(Fr.Int(open)), text);
        Assert.Contains(Normalize($"2 000 : {Fr.Percent(open / 2000.0)}"), text);
        Assert.Contains(Normalize(Fr.Percent(m.Headline.Rate)), text);
        Assert.Contains(Normalize(Fr.Int(m.Headline.PopulationOpenCommunes)), text);
        var bretagne = m.Regions.Single(r => r.Key == "53");
        Assert.Contains(Normalize($"Bretagne {Fr.Int(bretagne.Collectivites)} {Fr.Int(bretagne.Obliged)} {Fr.Int(bretagne.Open)} {Fr.Int(bretagne.ObligedOpen)} {Fr.Percent(bretagne.Rate)}"),
            text);

        // Page 1 rasterises (poppler) into a real image.
        var dir = Directory.CreateTempSubdirectory("obs-pdf-");
        var file = Path.Combine(dir.FullName, "r.pdf");
        await File.WriteAllBytesAsync(file, pdf);
        await Run("pdftoppm", $"-r 50 -png -f 1 -l 1 {file} {Path.Combine(dir.FullName, "p")}");
        var png = Directory.GetFiles(dir.FullName, "p*.png").Single();
        Assert.True(new FileInfo(png).Length > 10_000);
        dir.Delete(true);
    }

    [Fact]
    public async Task Before_the_first_observation_the_report_says_so()
    {
        var m = await Build(new DateOnly(2019, 6, 1));
        Assert.True(m.BeforeFirstObservation);
        Assert.Null(m.Headline.Open);
        Assert.Null(m.Headline.Rate);
        Assert.All(m.Regions, r => Assert.Null(r.ObligedOpen));
        Assert.Contains("précède la première observation", m.Notice);
        Assert.Equal(3, m.Progress.Points.Count(p => p.Kind == Observatoire.Indicators.ProgressKind.Published));   // 2017-01-01, 2018-01-15, 2018-10-08
        var text = Normalize(await PdfText(await Get("/api/reports/national.pdf?date=2019-06-01")));
        Assert.Contains("précède la première observation (25 avril 2022)", text);
        Assert.DoesNotMatch(@"(?<!\d)(?<!\d )0 collectivités ouvertes", text);   // "2 000 collectivités ouvertes" (the goal) is fine
        var csv = Encoding.UTF8.GetString(await Get("/api/reports/regions.csv?date=2019-06-01"));
        Assert.Contains("Bretagne;", csv);
        Assert.DoesNotContain(";0;0;", csv.Split('\n').First(l => l.Contains("Bretagne")));
    }

    [Fact]
    public async Task Xlsx_has_one_typed_sheet_per_table_and_frozen_headers()
    {
        var bytes = await Get("/api/reports/national.xlsx?date=2022-10-19");
        var m = await Build(ReportsDatabase.October);
        var sheetsRead = ReadWorkbook(bytes);
        var names = sheetsRead.Keys.ToList();
        Assert.Equal(["Synthèse", "Strates", "Types", "Régions", "Départements", "ATD", "À ouvrir", "Progression", "Changements", "Sources"], names);
        var bretagne = sheetsRead["Régions"].Single(r => (string?)r["Code région"] == "53");
        Assert.Equal("Bretagne", bretagne["Région"]);
        Assert.IsType<double>(bretagne["Obligées"]);
        Assert.Equal(m.Regions.Single(r => r.Key == "53").Obliged, (long)(double)bretagne["Obligées"]!);
        Assert.Equal(m.Regions.Single(r => r.Key == "53").Rate!.Value, (double)bretagne["Taux d'ouverture des obligées"]!, 10);
        var progress = sheetsRead["Progression"];
        Assert.IsType<DateTime>(progress[0]["Date"]);
        Assert.Equal(new DateTime(2017, 1, 1), progress[0]["Date"]);
        Assert.Equal(142.0, progress[0]["Collectivités ouvertes"]);

        // Frozen first row on every sheet (MiniExcel FreezeRowCount): a pane split at row 1.
        using var zip = new ZipArchive(new MemoryStream(bytes));
        var sheets = zip.Entries.Where(e => e.FullName.StartsWith("xl/worksheets/sheet")).ToList();
        Assert.Equal(names.Count, sheets.Count);
        foreach (var s in sheets)
        {
            using var r = new StreamReader(s.Open());
            var xml = await r.ReadToEndAsync();
            Assert.Contains("ySplit=\"1\"", xml);
            Assert.Contains("state=\"frozen\"", xml);
        }
    }

    [Theory]
    [InlineData("", ';', "fr-FR")]
    [InlineData("&format=rfc4180", ',', "")]
    public async Task Csv_round_trips_with_accents(string format, char delimiter, string culture)
    {
        var bytes = await Get($"/api/reports/regions.csv?date=2022-10-19{format}");
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var m = await Build(ReportsDatabase.October);
        var ci = CultureInfo.GetCultureInfo(culture);
        using var csv = new CsvReader(new StreamReader(new MemoryStream(bytes), Encoding.UTF8),
            new CsvConfiguration(ci) { Delimiter = delimiter.ToString() });
        var rows = csv.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(m.Regions.Count, rows.Count);
        foreach (var (row, r) in rows.Zip(m.Regions))
        {
            Assert.Equal(r.Label, row["Région"]);
            Assert.Equal(r.Obliged, long.Parse((string)row["Obligées"], ci));
            if (r.Rate is { } rate) Assert.Equal(rate, double.Parse((string)row["Taux d'ouverture des obligées"], NumberStyles.Float, ci), 4);
        }
        Assert.Contains(rows, r => (string)r["Région"] == "Provence-Alpes-Côte d'Azur");
        Assert.Contains(rows, r => (string)r["Région"] == "Île-de-France");

        foreach (var t in ReportTables.Names)
            Assert.Equal(HttpStatusCode.OK, (await db.App.CreateClient().GetAsync($"/api/reports/{t}.csv?date=2022-10-19{format}")).StatusCode);
    }

    /// <summary>
    /// An ATD's name comes from a hand-made file: one that starts like a formula must open as text in a
    /// spreadsheet (CSV injection), while the numbers of the same rows stay numbers.
    /// </summary>
    [Fact]
    public async Task Text_a_spreadsheet_would_run_as_a_formula_is_written_as_text()
    {
        var m = await Build(ReportsDatabase.October);
        string[] names = ["=HYPERLINK(\"http://example.org\";\"clic\")", "+33 1 23", "-Nord", "@SOMME(A1)", "Atd ordinaire"];
        Assert.NotEmpty(m.Atd.Atds);
        var atds = names.Select((n, i) => m.Atd.Atds[i % m.Atd.Atds.Count] with { Name = n }).ToList();
        m = m with { Atd = m.Atd with { Atds = atds } };

        var csv = Encoding.UTF8.GetString(CsvReport.Render(ReportTables.Get("atd", m), CsvDialect.French));
        using var reader = new CsvReader(new StringReader(csv.TrimStart('\uFEFF')), new CsvConfiguration(Fr.Culture) { Delimiter = ";" });
        var rows = reader.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(["'" + names[0], "'" + names[1], "'" + names[2], "'" + names[3], names[4]], rows.Select(r => (string)r["ATD"]));
        Assert.Equal(atds.Select(a => a.Obliged), rows.Select(r => long.Parse((string)r["Obligées"], CultureInfo.InvariantCulture)));

        // XLSX: cells are typed, so the name is a string cell and no sheet holds a formula.
        var bytes = XlsxReport.Render(m);
        using var zip = new ZipArchive(new MemoryStream(bytes));
        foreach (var e in zip.Entries.Where(e => e.FullName.StartsWith("xl/worksheets/sheet")))
        {
            using var r = new StreamReader(e.Open());
            Assert.DoesNotMatch(@"<(\w+:)?f[\s>]", await r.ReadToEndAsync());
        }
        Assert.Equal(names, ReadWorkbook(bytes)["ATD"].Take(names.Length).Select(r => (string?)r["ATD"]));
    }

    [Fact]
    public async Task Charts_are_served_as_png_and_svg()
    {
        var client = db.App.CreateClient();
        foreach (var c in Charts.Names)
        {
            var png = await client.GetAsync($"/api/reports/charts/{c}.png?date=2022-10-19");
            Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
            Assert.Equal(0x89, (await png.Content.ReadAsByteArrayAsync())[0]);
            var svg = await client.GetAsync($"/api/reports/charts/{c}.svg?date=2022-10-19&region=53");
            Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
            Assert.Contains("<svg", await svg.Content.ReadAsStringAsync());
        }
        Assert.Contains("DejaVu Sans", await client.GetStringAsync("/api/reports/charts/bands.svg?date=2022-10-19"));
    }

    [Theory]
    [InlineData("/api/reports/national.pdf?date=2022-13-45", 400, "date")]
    [InlineData("/api/reports/national.pdf?date=2999-01-01", 400, "date")]
    [InlineData("/api/reports/national.xlsx?region=99", 400, "Région inconnue")]
    [InlineData("/api/reports/national.xlsx?region=Bretagne", 400, "region")]
    [InlineData("/api/reports/national.pdf?atd=inconnu", 400, "ATD inconnu")]
    [InlineData("/api/reports/regions.csv?format=tsv", 400, "format")]
    [InlineData("/api/reports/atd/inconnu.pdf", 404, "ATD inconnu")]
    [InlineData("/api/reports/communes.csv", 404, "Table inconnue")]
    [InlineData("/api/reports/charts/carte.png", 404, "Graphique inconnu")]
    [InlineData("/api/reports/national.pdf?since=2022-19-04", 400, "« since »")]
    [InlineData("/api/reports/national.xlsx?date=2022-04-25&since=2022-10-19", 400, "doit précéder la date du rapport")]
    [InlineData("/api/reports/atd/rennes-metropole.pdf?date=2022-10-19&since=2022-10-19", 400, "doit précéder la date du rapport")]
    [InlineData("/api/reports/changes.csv?since=hier", 400, "« since »")]
    public async Task Bad_parameters_are_french_problem_details(string url, int status, string expected)
    {
        var res = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(status, (int)res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType!.MediaType);
        Assert.Contains(expected, await res.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// In this database each organisation of a snapshot is one "listed" observation and nothing else, so
    /// from the raw files alone: newly open between the two snapshots = SIRENs of October not in April
    /// (none: the bundled files list the same SIRENs), and since a date before any observation = every SIREN
    /// of October; nothing stops being listed; a dataset change = a SIREN in both whose count (nb-ptf /
    /// nb_ptf) is known in both and differs. No directory snapshot is recorded here: the section starts at
    /// the first observation.
    /// </summary>
    [Fact]
    public async Task Changes_section_matches_the_raw_snapshots()
    {
        var m = await Build(ReportsDatabase.October);
        Assert.Equal((ReportsDatabase.April, ReportsDatabase.October, "first-observation", true),
            (m.Changes.From, m.Changes.To, m.Changes.FromRule, m.Changes.ObservedFrom));
        var newly = db.OctoberSirens.Except(db.AprilSirens).Select(s => db.Raw[s].Code).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(newly, m.Changes.Items.Where(c => c.Kind == "newly_open").Select(c => c.Code).Order(StringComparer.Ordinal));
        Assert.Equal(newly.Count, m.Changes.NewlyOpen);
        Assert.Equal(0, m.Changes.NoLongerListed);
        Assert.All(m.Changes.Items.Where(c => c.Kind == "newly_open"), c => Assert.Equal(ReportsDatabase.October, c.After!.Date));

        // Dataset counts from the raw CSV (first row of each SIREN, as the fixture inserted them).
        static Dictionary<string, int?> Counts(List<Infrastructure.RawOdf.Row> rows, string column) => rows
            .GroupBy(r => r["siren"].Trim()).ToDictionary(g => g.Key, g => int.TryParse(g.First()[column], out var n) ? n : (int?)null);
        var april = Counts(Infrastructure.RawOdf.April, "nb_ptf");
        var october = Counts(Infrastructure.RawOdf.October, "nb-ptf");
        var moved = db.OctoberSirens.Intersect(db.AprilSirens)
            .Where(s => april[s] is { } a && october[s] is { } o && a != o)
            .ToDictionary(s => db.Raw[s].Code, s => (april[s], october[s]));
        Assert.NotEmpty(moved);
        var datasetChanges = m.Changes.Items.Where(c => c.Kind is "datasets_up" or "datasets_down").ToList();
        Assert.Equal(moved.OrderBy(x => x.Key, StringComparer.Ordinal),
            datasetChanges.ToDictionary(c => c.Code, c => (c.DatasetsBefore, c.DatasetsAfter)).OrderBy(x => x.Key, StringComparer.Ordinal));
        Assert.All(datasetChanges, c => Assert.Equal(c.DatasetsAfter > c.DatasetsBefore ? "datasets_up" : "datasets_down", c.Kind));

        // An ATD's section: its perimeter only (Rennes Métropole: its member communes and itself).
        var atd = await Build(ReportsDatabase.October, atd: "rennes-metropole");
        var inPerimeter = db.OctoberSirens.Except(db.AprilSirens)
            .Where(s => s == "243500139" || db.Raw[s].Epci == "243500139").Select(s => db.Raw[s].Code).Order(StringComparer.Ordinal);
        Assert.Equal(inPerimeter, atd.Changes.Items.Where(c => c.Kind == "newly_open").Select(c => c.Code).Order(StringComparer.Ordinal));
        // since= overrides the start; nothing was observed between April and June here, so the list is the same.
        var since = await Build(ReportsDatabase.October, since: new DateOnly(2022, 6, 1));
        Assert.Equal(("since", new DateOnly(2022, 6, 1)), (since.Changes.FromRule, since.Changes.From!.Value));
        Assert.Equal(m.Changes.Items.Select(c => c.Id), since.Changes.Items.Select(c => c.Id));
        // Since a date before the first observation: every collectivité listed in October is newly open.
        var all = await Build(ReportsDatabase.October, atd: "rennes-metropole", since: new DateOnly(2022, 1, 1));
        Assert.False(all.Changes.ObservedFrom);
        Assert.Equal(db.OctoberSirens.Where(s => s == "243500139" || db.Raw[s].Epci == "243500139").Select(s => db.Raw[s].Code).Order(StringComparer.Ordinal),
            all.Changes.Items.Select(c => c.Code).Order(StringComparer.Ordinal));
        Assert.All(all.Changes.Items, c => Assert.Equal("newly_open", c.Kind));
        var allText = Normalize(await PdfText(await Get("/api/reports/atd/rennes-metropole.pdf?date=2022-10-19&since=2022-01-01")));
        Assert.Contains(Normalize($"Nouvellement ouvertes {Fr.Int(all.Changes.NewlyOpen)}"), allText);
        Assert.Contains("précède la première observation", allText);
        // Before the first observation there is nothing to compare.
        var early = await Build(new DateOnly(2019, 6, 1));
        Assert.Null(early.Changes.From);
        Assert.Empty(early.Changes.Items);

        var text = Normalize(await PdfText(await Get("/api/reports/atd/rennes-metropole.pdf?date=2022-10-19")));
        Assert.Contains("Changements du 25 avril 2022 au 19 octobre 2022", text);
        Assert.Contains(Normalize($"Nouvellement ouvertes {Fr.Int(atd.Changes.NewlyOpen)}"), text);
        Assert.Contains("première observation", text);
    }

    [Fact]
    public async Task Report_command_writes_a_dated_folder()
    {
        var m = await Build(ReportsDatabase.October, region: "53");
        var dir = Directory.CreateTempSubdirectory("obs-report-");
        var folder = await ReportFolder.WriteAsync(m, dir.FullName);
        Assert.Equal("2022-10-19-region-53", Path.GetFileName(folder));
        Assert.True(File.Exists(Path.Combine(folder, "national.pdf")));
        Assert.True(File.Exists(Path.Combine(folder, "national.xlsx")));
        foreach (var t in ReportTables.Names) Assert.True(File.Exists(Path.Combine(folder, $"{t}.csv")), t);
        foreach (var c in Charts.Names) Assert.True(File.Exists(Path.Combine(folder, "charts", $"{c}.svg")), c);
        Assert.Single(m.Regions);
        Assert.DoesNotContain(m.Progress.Points, p => p.Kind == Observatoire.Indicators.ProgressKind.Published);
        dir.Delete(true);
    }

    /// <summary>Every sheet as rows keyed by the header row, cells as ExcelDataReader types them.</summary>
    static Dictionary<string, List<Dictionary<string, object?>>> ReadWorkbook(byte[] bytes)
    {
        // ExcelDataReader asks for code page 1252 even for XLSX; .NET ships it as a provider to register.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        using var reader = ExcelReaderFactory.CreateOpenXmlReader(new MemoryStream(bytes));
        var result = new Dictionary<string, List<Dictionary<string, object?>>>();
        do
        {
            var rows = new List<Dictionary<string, object?>>();
            string[]? header = null;
            while (reader.Read())
            {
                if (header is null)
                {
                    header = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)?.ToString() ?? "").ToArray();
                    continue;
                }
                rows.Add(header.Select((h, i) => (h, v: (object?)reader.GetValue(i))).ToDictionary(x => x.h, x => x.v));
            }
            result[reader.Name] = rows;
        } while (reader.NextResult());
        return result;
    }

    async Task<byte[]> Get(string url)
    {
        var res = await db.App.CreateClient().GetAsync(url);
        Assert.True(res.IsSuccessStatusCode, $"{url}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
        return await res.Content.ReadAsByteArrayAsync();
    }

    internal static async Task<string> PdfText(byte[] pdf)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, pdf);
        try { return await Run("pdftotext", $"-layout {file} -"); }
        finally { File.Delete(file); }
    }

    /// <summary>pdftotext's layout spacing, line breaks and no-break spaces folded to single spaces.</summary>
    internal static string Normalize(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s.Replace('\u00a0', ' ').Replace('\u202f', ' '), "\\s+", " ");

    static async Task<string> Run(string exe, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{exe} {args}: {await p.StandardError.ReadToEndAsync()}");
        return stdout;
    }
}
