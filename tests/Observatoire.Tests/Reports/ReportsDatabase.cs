using System.Globalization;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Import;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reports;

/// <summary>
/// A database of its own for the report tests: the bundled reference data plus a controlled subset of
/// the real status data, inserted here directly: one observation per
/// organisation of the two OpenDataFrance snapshots whose SIREN is a commune, EPCI or EPT of the
/// list; the published milestones; two ATD of data/atd/atd.csv with their perimeters.
/// Also computes, from the raw files only, the expected figures the tests compare with.
/// </summary>
public sealed class ReportsDatabase : IAsyncLifetime
{
    public static readonly DateOnly April = new(2022, 4, 25), October = new(2022, 10, 19);
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    WebApplicationFactory<Program>? factory;

    /// <summary>SIREN → (type, INSEE code or SIREN, population) of communes, EPCI and EPT, from the raw COG JSON.</summary>
    public Dictionary<string, (string Kind, string Code, string Name, long Population, string? Epci)> Raw { get; } = new();
    public HashSet<string> OctoberSirens { get; } = [];
    public HashSet<string> AprilSirens { get; } = [];

    public WebApplicationFactory<Program> App => factory ??= TestApp.On(ConnectionString);

    public async Task InitializeAsync()
    {
        ReadRaw();
        // The reference data only (a copy of the reference template): the status below is a controlled
        // subset (SIREN matches) whose figures the tests recompute from the raw files. Reconciliation
        // with the real status import and the indicator layer: ReportReconciliationTests.
        ConnectionString = await TemplateDatabases.CopyOfReferenceAsync("reports");
        DataSource = Database.CreateDataSource(ConnectionString);

        foreach (var (file, delimiter, date, set) in new[]
                 {
                     ("organisations-2022-10-19.csv", ",", October, OctoberSirens),
                     ("organisations-2022-04-25.csv", ";", April, AprilSirens),
                 })
        {
            using var reader = new StreamReader(Path.Combine(TestEnvironment.DataDir, "odf", file));
            using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { Delimiter = delimiter });
            await csv.ReadAsync();
            csv.ReadHeader();
            var sirens = new List<string>();
            var locals = new List<int?>();
            while (await csv.ReadAsync())
            {
                var siren = csv.GetField("siren")!.Trim();
                if (!Raw.ContainsKey(siren) || !set.Add(siren)) continue;
                sirens.Add(siren);
                locals.Add(int.TryParse(csv.GetField(delimiter == "," ? "nb-ptf" : "nb_ptf"), out var n) ? n : null);
            }
            // One statement per file: the observation table's triggers refresh the derived status once per
            // statement (one insert per row took 58 ms each, 67 s of the suite's database time).
            await Exec("""
                insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, match_method)
                select r.siren, c.id, $3, $4, true, r.local, 'siren'
                  from unnest($1::text[], $2::int[]) r (siren, local) join collectivite c on c.siren = r.siren
                """, sirens.ToArray(), locals.ToArray(), date, "odf-" + date.ToString("yyyy-MM-dd"));
        }
        // (The derived current status, collectivite.is_open…, follows the inserts: the observation table's triggers.)
        // Milestones, as published (data/milestones.csv).
        foreach (var line in File.ReadLines(Path.Combine(TestEnvironment.DataDir, "milestones.csv")).Skip(1))
        {
            var f = line.Split(',');
            await Exec("insert into milestone (observed_on, open_count) values ($1, $2)", DateOnly.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1]));
        }
        // Two ATD: Rennes Métropole (its EPCI's communes) and the Finistère département.
        await Exec("insert into atd (id, name, kind, scale, perimeter_type, perimeter_codes) values ('rennes-metropole', 'Rennes Métropole', 'epci', 'intercommunal', 'epci', '{243500139}')");
        await Exec("insert into atd (id, name, kind, scale, perimeter_type, perimeter_codes) values ('cd-finistere', 'Conseil départemental du Finistère', 'departement', 'departemental', 'departements', '{29}')");
        await Exec("insert into atd_coverage select 'rennes-metropole', id from collectivite where epci_siren = '243500139' or siren = '243500139'");
        await Exec("insert into atd_coverage select 'cd-finistere', id from collectivite where departement_code = '29' and type <> 'REG'");
    }

    void ReadRaw()
    {
        var communePop = new Dictionary<string, long>();
        foreach (var c in RawCog.CurrentCommunes)
        {
            var pop = (long?)c["population"] ?? 0;
            communePop[(string)c["code"]!] = pop;
            if ((string?)c["siren"] is { } s) Raw[s] = ("COM", (string)c["code"]!, (string)c["nom"]!, pop, null);
        }
        void Groups(JsonArray a, string kind)
        {
            foreach (var e in a)
            {
                var members = e!["membres"]!.AsArray();
                var pop = members.Sum(m => communePop.GetValueOrDefault((string)m!["code"]!));
                Raw[(string)e["code"]!] = (kind == "EPT" ? "EPT" : (string)e["type"]!, (string)e["code"]!, (string)e["nom"]!, pop, null);
            }
        }
        Groups(RawCog.Epci, "EPCI");
        Groups(RawCog.Ept, "EPT");
        // Commune → EPCI, for the ATD perimeter of Rennes Métropole.
        foreach (var e in RawCog.Epci)
            foreach (var m in e!["membres"]!.AsArray())
                if ((string?)m!["siren"] is { } s && Raw.TryGetValue(s, out var v))
                    Raw[s] = v with { Epci = (string)e["code"]! };
    }

    async Task Exec(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        await cmd.ExecuteNonQueryAsync();
    }

    public Task<List<object?[]>> RowsAsync(string sql, params object[] args) => DataSource.RowsAsync(sql, args);

    public async Task DisposeAsync()
    {
        if (factory is not null) await factory.DisposeAsync();
        await DataSource.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(ConnectionString);
    }
}

[CollectionDefinition(Name)]
public sealed class ReportsCollection : ICollectionFixture<ReportsDatabase>
{
    public const string Name = "reports database";
}
