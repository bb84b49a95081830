using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Observatoire.Reference;
using Observatoire.Reports;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Status;

/// <summary>
/// Issue #11: figures a statistician would sign. Matches that check themselves, snapshots that are what
/// they claim, the obligation counted by legal body, honest dates, and the same figure on every surface.
/// Expected answers are computed from the raw files (COG JSON, OpenDataFrance CSV, boundaries).
/// </summary>
[LongChain(26)]
public sealed class FidelityTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    static readonly DateOnly October = new(2022, 10, 19);

    async Task<bool> OpenOn(string id, DateOnly d) =>
        await db.ScalarAsync<bool>("select is_open from status_on($1) where collectivite_id = $2", d, id);

    [Fact]
    public async Task A_siren_of_a_homonym_is_resolved_by_name_departement_and_position()
    {
        // The raw row: CHELLES, département 77, Chelles-77's population and point, Chelles-60's SIREN.
        var row = RawOdf.October.Single(r => RawOdf.Key(r["nom"]) == "chelles");
        var siren60 = (string)RawCog.CurrentCommunes.Single(c => (string)c["code"]! == "60145")["siren"]!;
        Assert.Equal(siren60, row.Siren);
        Assert.Equal("77", row["Département"]);

        Assert.True(await OpenOn("COM-77108", October));
        Assert.False(await OpenOn("COM-60145", October));
        var evidence = await db.ScalarAsync<string>(
            "select match_evidence from observation where source = 'odf-2022-10-19' and subject_key = $1 and match_method = 'homonym'", siren60);
        Assert.Contains("homonyme du département 60", evidence);
        Assert.Contains("77108", evidence);

        // Every homonym resolution agrees with the independent rule of Expected.OpenCommunes.
        var resolved = (await db.RowsAsync("""
            select c.code from observation o join collectivite c on c.id = o.collectivite_id
             where o.source = 'odf-2022-10-19' and o.match_method = 'homonym'
            """)).Select(r => (string)r[0]!).ToList();
        Assert.True(resolved.Count >= 4, string.Join(", ", resolved));   // Chelles, Esparron, Saint-Firmin, Venterol
        Assert.Subset(Expected.OpenCommunes(RawOdf.October), resolved.ToHashSet());
    }

    [Fact]
    public async Task A_body_larger_than_the_epci_around_it_is_not_matched_to_that_epci()
    {
        // "PAYS SERRE-PONCON UBAYE DURANCE" is typed CC in the directory; its SIREN is no EPCI of the list
        // and its population is larger than any single EPCI of its département 04.
        var row = RawOdf.October.Single(r => r["nom"].StartsWith("PAYS SERRE-PONCON", StringComparison.Ordinal));
        Assert.Equal("CC", row["type"]);
        Assert.DoesNotContain(RawCog.Epci, e => (string)e!["code"]! == row.Siren);
        var match = (await db.RowsAsync(
            "select collectivite_id, match_method, associated_actor_id from observation where subject_key = $1 and is_listed", row.Siren)).ToList();
        Assert.NotEmpty(match);
        Assert.All(match, m => Assert.Null(m[0]));
        Assert.All(match, m => Assert.Equal("actor", m[1]));
        Assert.Equal("AGCT", await db.ScalarAsync<string>("select type from associated_actor where siren = $1", row.Siren));
    }

    [Fact]
    public async Task The_import_report_lists_every_non_siren_match_and_counts_per_method()
    {
        // The October snapshot is imported last: its report was written with every fact the matching now
        // uses (an earlier report shows the matching as it stood when its file was imported).
        foreach (var source in new[] { "odf-2022-10-19" })
        {
            using var report = JsonDocument.Parse(await db.ScalarAsync<string>(
                "select report::text from data_release where kind = 'status' and vintage = $1 order by id desc limit 1", source));
            var expected = await db.ScalarAsync<long>("""
                select count(*) from observation where source = $1 and is_listed
                   and match_method not in ('siren', 'code') and not (match_method = 'actor' and match_evidence like 'type %')
                """, source);
            Assert.True(expected > 20);
            Assert.Equal(expected, report.RootElement.GetProperty("notDirect").GetArrayLength());
            var byMethod = report.RootElement.GetProperty("byMethod").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Assert.Equal(await db.ScalarAsync<long>("select count(*) from observation where source = $1 and is_listed", source), byMethod.Values.Sum());
        }
        // The evidence claims no date the directory does not give.
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from observation where match_evidence like '%depuis 2022%'"));
    }

    [Fact]
    public async Task The_shifted_datagouv_column_of_the_april_export_is_detected_and_its_counts_kept_unknown()
    {
        // Independently: in the April file, a row's data.gouv.fr count sits one row below its URL.
        var april = RawOdf.April;
        int Agree(int shift) => Enumerable.Range(Math.Max(0, -shift), april.Count - Math.Abs(shift))
            .Count(i => (april[i]["url_datagouv"].Length > 0) == (april[i + shift]["nb_datagouv"].Length > 0));
        Assert.True(Agree(-1) > Agree(0) + 300, $"{Agree(-1)} vs {Agree(0)}");

        Assert.Equal(0, await db.ScalarAsync<long>("select count(datasets_datagouv) from observation where source = 'odf-2022-04-25'"));
        Assert.True(await db.ScalarAsync<long>("select count(datasets_local) from observation where source = 'odf-2022-04-25'") > 400);
        Assert.True(await db.ScalarAsync<bool>(
            "select checks @> '[{\"code\":\"count-column-shifted\",\"failed\":true}]' from status_snapshot where source = 'odf-2022-04-25'"));
        Assert.False(await db.ScalarAsync<bool>(
            "select checks @> '[{\"failed\":true}]' from status_snapshot where source = 'odf-2022-10-19'"));
        // Paris keeps October's own count, never the neighbouring row's.
        var paris = RawOdf.October.Single(r => r.Siren == "217500016");
        Assert.Equal(int.Parse(paris["nb-datagouv"], CultureInfo.InvariantCulture), await db.ScalarAsync<int>(
            "select datasets_datagouv from observation where source = 'odf-2022-10-19' and subject_key = '217500016'"));
    }

    /// <summary>Entries that are not a legal body of their own (the same list as migrations/007, restated from the law).</summary>
    static readonly HashSet<string> NotOwnBody = ["DEP-75", "DEP-2A", "DEP-2B", "DEP-972", "DEP-973", "REG-06", "DEP-68"];

    [Fact]
    public async Task National_obliged_and_obliged_open_count_each_legal_body_once()
    {
        // Obliged legal bodies from the raw COG: ≥ 3,500 inhabitants (groupements, départements and régions
        // summed over their communes), outside the collectivités d'outre-mer, each legal body once.
        var communes = RawCog.CurrentCommunes.Where(c => (string?)c["zone"] != "com").ToList();
        var pop = communes.ToDictionary(c => (string)c["code"]!, c => (long?)c["population"] ?? 0);
        long Sum(IEnumerable<string> codes) => codes.Sum(c => pop.GetValueOrDefault(c));
        var obliged = new HashSet<string>();
        foreach (var c in communes.Where(c => pop[(string)c["code"]!] >= 3500)) obliged.Add("COM-" + c["code"]);
        foreach (var e in RawCog.Epci.Concat(RawCog.Ept))
            if (Sum(e!["membres"]!.AsArray().Select(m => (string)m!["code"]!)) >= 3500)
                obliged.Add((RawCog.Ept.Contains(e) ? "EPT-" : "EPCI-") + e["code"]);
        foreach (var d in RawCog.Departements.Where(d => (string?)d!["zone"] != "com"))
            if (Sum(communes.Where(c => (string?)c["departement"] == (string)d!["code"]!).Select(c => (string)c["code"]!)) >= 3500)
                obliged.Add("DEP-" + d!["code"]);
        foreach (var r in RawCog.Regions.Where(r => (string?)r!["zone"] != "com"))
            obliged.Add("REG-" + r!["code"]);
        obliged.ExceptWith(NotOwnBody);

        var client = db.App.CreateClient();
        using var ind = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2022-10-19"));
        Assert.Equal(obliged.Count, ind.RootElement.GetProperty("obliged").GetInt64());
        Assert.Contains("borne haute", ind.RootElement.GetProperty("obligationNote").GetString());

        // Open among them: communes by the independent matching, départements and régions by code (a
        // directory row naming an entry that is not its own legal body counts for the legal body),
        // EPCI/EPT as matched (their matching is checked in StatusImportTests).
        var openIds = Expected.OpenCommunes(RawOdf.October).Select(c => "COM-" + c)
            .Concat(Expected.OpenDepartements(RawOdf.October).Select(d => "DEP-" + d))
            .Concat(Expected.OpenRegions(RawOdf.October).Select(r => "REG-" + r))
            .Select(id => Body.GetValueOrDefault(id, id))
            .Concat((await db.RowsAsync("select collectivite_id from status_on($1) s join collectivite c on c.id = s.collectivite_id where s.is_open and c.type = any(groupement_types())", October))
                .Select(r => (string)r[0]!))
            .ToHashSet();
        Assert.Equal(obliged.Count(openIds.Contains), ind.RootElement.GetProperty("obligedOpen").GetInt64());
        // OData's IsOverseasCollectivity means the same thing as the national scope.
        using var odata = JsonDocument.Parse(await client.GetStringAsync("/odata/Collectivites?$filter=IsObliged and IsOverseasCollectivity eq false&$count=true&$top=0"));
        Assert.Equal(obliged.Count, odata.RootElement.GetProperty("@odata.count").GetInt64());
        using var overseas = JsonDocument.Parse(await client.GetStringAsync("/odata/Collectivites?$filter=IsObliged and IsOverseasCollectivity&$count=true&$top=0"));
        Assert.Equal(0, overseas.RootElement.GetProperty("@odata.count").GetInt64());
    }

    static readonly Dictionary<string, string> Body = new()
    {
        ["DEP-75"] = "COM-75056", ["DEP-2A"] = "REG-94", ["DEP-2B"] = "REG-94", ["DEP-972"] = "REG-02", ["DEP-973"] = "REG-03",
        ["REG-06"] = "DEP-976", ["DEP-68"] = "DEP-67",
    };

    [Theory]
    [InlineData("2022-04-25")]
    [InlineData("2022-06-01")]
    [InlineData("2022-10-19")]
    public async Task The_same_figures_on_every_surface(string day)
    {
        var date = DateOnly.Parse(day, CultureInfo.InvariantCulture);
        var client = db.App.CreateClient();
        using var ind = JsonDocument.Parse(await client.GetStringAsync($"/api/indicators?date={day}"));
        var open = ind.RootElement.GetProperty("open").GetInt64();
        var obliged = ind.RootElement.GetProperty("obliged").GetInt64();
        var obligedOpen = ind.RootElement.GetProperty("obligedOpen").GetInt64();
        var rate = ind.RootElement.GetProperty("obligedOpenRate").GetDouble();
        Assert.True(open > 600);

        using var progress = JsonDocument.Parse(await client.GetStringAsync($"/api/progress?asOf={day}"));
        Assert.Equal(open, progress.RootElement.GetProperty("open").GetInt64());
        Assert.Equal(obliged, progress.RootElement.GetProperty("obliged").GetInt64());
        Assert.Equal(rate, progress.RootElement.GetProperty("obligedOpenRate").GetDouble());

        async Task<long> ODataCount(string filter)
        {
            using var d = JsonDocument.Parse(await client.GetStringAsync($"/odata/StatusOn(Date={day})?$filter={filter} and IsOverseasCollectivity eq false&$count=true&$top=0"));
            return d.RootElement.GetProperty("@odata.count").GetInt64();
        }
        Assert.Equal(open, await ODataCount("IsOpen"));
        Assert.Equal(obliged, await ODataCount("IsObliged"));
        Assert.Equal(obligedOpen, await ODataCount("IsObliged and IsOpen"));

        // The map's régions: every collectivité counted in the région of its region_code.
        using var regions = JsonDocument.Parse(await client.GetStringAsync($"/api/geo/regions?zoom=5&date={day}"));
        var props = regions.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("properties")).ToList();
        Assert.Equal(open, props.Sum(p => p.GetProperty("open").GetInt64()));
        Assert.Equal(obliged, props.Sum(p => p.GetProperty("obliged").GetInt64()));
        Assert.Equal(obligedOpen, props.Sum(p => p.GetProperty("obligedOpen").GetInt64()));

        // The report (its model is what the PDF and XLSX print) and the PDF's own text.
        var model = await new ReportModelBuilder(db.DataSource).BuildAsync(new ReportRequest(date, null, null));
        Assert.Equal((open, obliged, obligedOpen), (model.Headline.Open!.Value, model.Headline.Obliged, model.Headline.ObligedOpen!.Value));
        var projection = progress.RootElement.GetProperty("projection");
        Assert.Equal(projection.GetProperty("date").GetString(), model.Progress.ProjectedGoalDate?.ToString("yyyy-MM-dd"));
        var pdf = await client.GetByteArrayAsync($"/api/reports/national.pdf?date={day}");
        var text = await PdfText(pdf);
        static string Plain(string s) => s.Replace('\u00a0', ' ');
        Assert.Contains(Plain(Fr.Int(open)), text);
        Assert.Contains(Plain($"{Fr.Int(obligedOpen)} sur {Fr.Int(obliged)}"), text);
        Assert.Contains("vers " + Fr.MonthYear(model.Progress.ProjectedGoalDate!.Value), text);
        Assert.Contains("dernière observation", text);
        Assert.Contains("19 octobre 2022", text);

        // The XLSX's first sheet (two columns: label, value).
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        using var xlsx = ExcelDataReader.ExcelReaderFactory.CreateOpenXmlReader(new MemoryStream(await client.GetByteArrayAsync($"/api/reports/national.xlsx?date={day}")));
        var summary = new Dictionary<string, object?>();
        while (xlsx.Read()) if (xlsx.GetValue(0) is string label) summary[label] = xlsx.GetValue(1);
        Assert.Equal(open, Convert.ToInt64(summary["Collectivités ouvertes"], CultureInfo.InvariantCulture));
        Assert.Equal(obliged, Convert.ToInt64(summary["Collectivités obligées"], CultureInfo.InvariantCulture));
        Assert.Equal(obligedOpen, Convert.ToInt64(summary["Obligées ouvertes"], CultureInfo.InvariantCulture));
        Assert.Contains(Fr.MonthYear(model.Progress.ProjectedGoalDate!.Value), (string)summary["Projection"]!);
    }

    [Fact]
    public async Task Before_the_first_observation_the_status_is_unknown_not_zero()
    {
        var client = db.App.CreateClient();
        using var ind = JsonDocument.Parse(await client.GetStringAsync("/api/indicators?date=2019-01-01"));
        var r = ind.RootElement;
        Assert.False(r.GetProperty("observed").GetBoolean());
        foreach (var p in new[] { "open", "obligedOpen", "obligedOpenRate", "populationInOpenCommunes", "populationInOpenCommuneOrEpci" })
            Assert.Equal(JsonValueKind.Null, r.GetProperty(p).ValueKind);
        Assert.True(r.GetProperty("obliged").GetInt64() > 4000);   // the reference figures stay known
        Assert.Equal("2022-10-19", r.GetProperty("lastObservation").GetString());

        using var progress = JsonDocument.Parse(await client.GetStringAsync("/api/progress?asOf=2019-01-01"));
        Assert.Equal(JsonValueKind.Null, progress.RootElement.GetProperty("open").ValueKind);
        Assert.False(progress.RootElement.GetProperty("observed").GetBoolean());
        // The published edition before that date is there to quote.
        Assert.Equal("2018-10-08", progress.RootElement.GetProperty("latestPublished").GetProperty("date").GetString());

        using var odata = JsonDocument.Parse(await client.GetStringAsync("/odata/StatusOn(Date=2019-01-01)?$top=1&$select=Id,IsOpen,Observed"));
        Assert.False(odata.RootElement.GetProperty("value")[0].GetProperty("Observed").GetBoolean());
        using var odataNow = JsonDocument.Parse(await client.GetStringAsync("/odata/StatusOn(Date=2022-10-19)?$top=1&$select=Id,Observed"));
        Assert.True(odataNow.RootElement.GetProperty("value")[0].GetProperty("Observed").GetBoolean());

        using var health = JsonDocument.Parse(await client.GetStringAsync("/health"));
        Assert.Equal("2022-10-19", health.RootElement.GetProperty("lastObservation").GetString());
    }

    [Fact]
    public async Task Population_figures_count_each_inhabitant_once_from_the_communes()
    {
        var communes = RawCog.CurrentCommunes.Where(c => (string?)c["zone"] != "com").ToList();
        var pop = communes.ToDictionary(c => (string)c["code"]!, c => (long?)c["population"] ?? 0);
        var openCommunes = Expected.OpenCommunes(RawOdf.October).Where(pop.ContainsKey).ToHashSet();
        var openEpci = (await db.RowsAsync(
            "select c.siren from status_on($1) s join collectivite c on c.id = s.collectivite_id where s.is_open and c.type = any(groupement_types())", October))
            .Select(r => ((string)r[0]!).Trim()).ToHashSet();
        var epciOf = new Dictionary<string, List<string>>();
        foreach (var e in RawCog.Epci.Concat(RawCog.Ept))
            foreach (var m in e!["membres"]!.AsArray())
                (epciOf.TryGetValue((string)m!["code"]!, out var l) ? l : epciOf[(string)m["code"]!] = []).Add((string)e["code"]!);

        using var ind = JsonDocument.Parse(await db.App.CreateClient().GetStringAsync("/api/indicators?date=2022-10-19"));
        var r = ind.RootElement;
        Assert.Equal(pop.Values.Sum(), r.GetProperty("population").GetInt64());
        Assert.Equal(openCommunes.Sum(c => pop[c]), r.GetProperty("populationInOpenCommunes").GetInt64());
        Assert.Equal(pop.Where(p => openCommunes.Contains(p.Key) || epciOf.GetValueOrDefault(p.Key, []).Any(openEpci.Contains)).Sum(p => p.Value),
            r.GetProperty("populationInOpenCommuneOrEpci").GetInt64());
        Assert.True(r.GetProperty("populationInOpenCommuneOrEpci").GetInt64() < r.GetProperty("population").GetInt64());
    }

    [Fact]
    public async Task The_band_and_obligation_rules_live_in_sql_and_say_why()
    {
        // The SQL band rule gives exactly the labels the API validates, in order, with inclusive lower bounds.
        int[] bounds = [0, 500, 2000, 3500, 10_000, 20_000, 50_000, 100_000];
        for (var i = 0; i < bounds.Length; i++)
        {
            Assert.Equal(PopulationBands.All[i], await db.ScalarAsync<string>("select population_band($1)", bounds[i]));
            if (i > 0) Assert.Equal(PopulationBands.All[i - 1], await db.ScalarAsync<string>("select population_band($1)", bounds[i] - 1));
        }
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from collectivite where population_band is distinct from population_band(population)"));
        Assert.Equal(CollectiviteTypes.Proper, (await db.RowsAsync("select unnest(collectivite_types())")).Select(r => (string)r[0]!).ToArray());

        async Task<(bool, string)> Rule(string type, int? pop, int? staff, bool overseas = false, string? mergedInto = null)
        {
            var row = (await db.RowsAsync("select obliged, reason from obligation($1, $2, $3, $4, $5, 'X')",
                type, (object?)pop ?? DBNull.Value, (object?)staff ?? DBNull.Value, overseas, (object?)mergedInto ?? DBNull.Value)).Single();
            return ((bool)row[0]!, (string)row[1]!);
        }
        Assert.True((await Rule("COM", 3500, null)).Item1);
        Assert.Contains("borne haute", (await Rule("COM", 3500, null)).Item2);
        Assert.False((await Rule("COM", 3499, null)).Item1);
        Assert.False((await Rule("CA", 80_000, 49)).Item1);
        Assert.True((await Rule("CA", 80_000, 50)).Item1);
        Assert.False((await Rule("COM", 31_160, null, overseas: true)).Item1);
        Assert.False((await Rule("DEP", 2_000_000, null, mergedInto: "COM-75056")).Item1);
        Assert.False((await Rule("COLOM", 80_000, null)).Item1);
        // Stored flags follow the rule.
        Assert.Equal(0, await db.ScalarAsync<long>("""
            select count(*) from collectivite c left join legal_body_merge m on m.collectivite_id = c.id
             where c.is_obliged is distinct from (obligation(c.type, c.population, c.staff, c.is_overseas_collectivity, m.body_id, m.body_name)).obliged
            """));
    }

    static async Task<string> PdfText(byte[] pdf)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, pdf);
        try
        {
            using var p = Process.Start(new ProcessStartInfo("pdftotext", $"{file} -") { RedirectStandardOutput = true })!;
            var text = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            return System.Text.RegularExpressions.Regex.Replace(text.Replace('\u00a0', ' ').Replace('\u202f', ' '), "\\s+", " ");
        }
        finally { File.Delete(file); }
    }
}
