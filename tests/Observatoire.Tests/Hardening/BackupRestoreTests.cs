using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Observatoire.Data;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Hardening;

/// <summary>
/// scripts/backup.sh then scripts/restore.sh into a fresh database: the same rows in every table and the
/// same answers from the API. The restored copy then serves to check that an import the guards refuse
/// goes through with --accepter-changement.
/// </summary>
[LongChain(54)]
public sealed class BackupRestoreTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static readonly string[] Answers =
    [
        "/api/progress", "/api/indicators?date=2022-10-19&by=region", "/api/atd", "/api/collectivites/COM-35238",
        "/api/search?q=saint%20etienne", "/odata/Collectivites?$filter=IsObliged%20and%20IsOpen&$count=true&$top=50&$orderby=Id",
        "/odata/Observations?$top=20&$orderby=Id", "/api/geo/departements?zoom=5", "/tiles/communes/8/127/88.pbf",
        "/api/reports/regions.csv?format=rfc4180",
    ];

    static async Task<string> Script(string name, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(TestEnvironment.RepoRoot, "scripts", name)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(p.ExitCode == 0, $"{name} : code {p.ExitCode}\n{await error}\n{await output}");
        return await output;
    }

    [Fact]
    public async Task A_backup_restored_into_a_fresh_database_has_the_same_rows_and_the_same_answers()
    {
        var source = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        var port = source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var file = Path.Combine(Directory.CreateTempSubdirectory("obs-backup-").FullName, "observatoire.dump");
        var restoredName = $"obs_test_restore_{Guid.NewGuid():N}"[..40];
        var restored = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Database = restoredName }.ConnectionString;
        try
        {
            await Script("backup.sh", "--database", source.Database!, "--pg-port", port, "--out", file);
            Assert.True(new FileInfo(file).Length > 1_000_000);
            await Script("restore.sh", file, "--database", restoredName, "--pg-port", port);

            await using var copy = Database.CreateDataSource(restored);
            var expected = await TableChecksums.OfAsync(db.DataSource);
            Assert.True(int.Parse(expected["collectivite"].Split(':')[0]) > 30_000);
            Assert.Equal(expected, await TableChecksums.OfAsync(copy));

            await using var original = db.App.WithWebHostBuilder(_ => { });
            await using var restoredApp = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:Observatoire", restored));
            var a = original.CreateClient();
            var b = restoredApp.CreateClient();
            foreach (var url in Answers)
            {
                var ra = await a.GetAsync(url);
                var rb = await b.GetAsync(url);
                Assert.Equal(System.Net.HttpStatusCode.OK, ra.StatusCode);
                Assert.Equal(ra.StatusCode, rb.StatusCode);
                Assert.Equal(await ra.Content.ReadAsByteArrayAsync(), await rb.Content.ReadAsByteArrayAsync());
            }
            // Contributions work on the copy (the backup has no privileges: restore.sh grants the writer role
            // again); dated before every snapshot, so the status checked below is the snapshots'.
            var (_, key) = await Observatoire.Contributions.ApiKeys.CreateAsync(copy, "après restauration", "admin", null, null);
            b.DefaultRequestHeaders.Authorization = new("Bearer", key);
            var write = await b.PostAsync("/api/observations", new StringContent(
                "{\"collectivite\":\"COM-35238\",\"observedOn\":\"2021-06-15\",\"datasetsLocal\":1}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Created, write.StatusCode);

            // The copy takes a real large change when it is accepted explicitly.
            var lines = File.ReadAllLines(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv"));
            var truncated = Path.Combine(Path.GetDirectoryName(file)!, "octobre-300.csv");
            File.WriteAllLines(truncated, lines.Take(300));
            var openBefore = await copy.RowsAsync("select count(*) from collectivite where is_open");
            var expectedAfter = (long)(await copy.RowsAsync("""
                select count(*) from collectivite c where c.is_open and exists (select 1 from observation o where o.collectivite_id = c.id
                   and o.source = 'odf-2022-10-19' and o.is_listed and o.source_line <= 300)
                """))[0][0]!;
            var (refused, _) = await ImportGuardTests.Cli(restored, "import-status", truncated, "--date", "2022-11-01");
            Assert.Equal(5, refused);
            var (code, output) = await ImportGuardTests.Cli(restored, "import-status", truncated, "--date", "2022-11-01", "--accepter-changement");
            Assert.True(code == 0, output);
            Assert.Contains("Changement important accepté", output);
            Assert.Equal(expectedAfter, (long)(await copy.RowsAsync("select count(*) from collectivite where is_open"))[0][0]!);
            Assert.True(expectedAfter < (long)openBefore[0][0]!);
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(restored);
            File.Delete(file);
        }
    }
}
