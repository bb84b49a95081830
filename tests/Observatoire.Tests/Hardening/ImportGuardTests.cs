using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Observatoire.Status;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Hardening;

/// <summary>
/// Imports that would do damage are refused (exit code 5) and leave every row as it was; the dry run
/// shows the diff; a malformed row or a dangerous URL is rejected on its own line.
/// </summary>
[LongChain(26)]
public sealed class ImportGuardTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static string October => Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv");

    /// <summary>Runs the command line as a user would, on the test database; returns the exit code and what it printed.</summary>
    /// <summary>Console.Out is one per process: two CLI runs redirecting it at once would swap each other's output.</summary>
    static readonly SemaphoreSlim ConsoleLock = new(1, 1);

    internal static async Task<(int Code, string Output)> Cli(string connectionString, params string[] args)
    {
        await ConsoleLock.WaitAsync();
        try { return await RunRedirected(connectionString, args); }
        finally { ConsoleLock.Release(); }
    }

    static async Task<(int Code, string Output)> RunRedirected(string connectionString, string[] args)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Observatoire"] = connectionString,
        }).Build();
        var output = new StringWriter();
        TextWriter previousOut = Console.Out, previousError = Console.Error;
        Console.SetOut(output);
        Console.SetError(output);
        try { return (await Observatoire.Cli.RunAsync(args, config), output.ToString()); }
        finally { Console.SetOut(previousOut); Console.SetError(previousError); }
    }

    static string TempFile(string name, string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("obs-guard-").FullName, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>The October file cut after <paramref name="keptLines"/> lines, the next line cut in its middle.</summary>
    static string Truncated(int keptLines)
    {
        var lines = File.ReadAllLines(October);
        return string.Join('\n', lines.Take(keptLines)) + '\n' + lines[keptLines][..(lines[keptLines].Length / 2)];
    }

    [Fact]
    public async Task A_file_of_garbage_rows_is_refused_and_changes_nothing()
    {
        var header = File.ReadLines(October).First();
        var random = new Random(14);
        var garbage = string.Join('\n', Enumerable.Range(0, 200).Select(_ =>
            new string(Enumerable.Range(0, random.Next(5, 80)).Select(_ => (char)random.Next(32, 127)).ToArray())));
        var before = await TableChecksums.RowVersionsAsync(db.DataSource);

        var (code, output) = await Cli(db.ConnectionString, "import-status", TempFile("garbage.csv", header + '\n' + garbage), "--date", "2022-11-01");

        Assert.Equal(5, code);
        Assert.Contains("Import refusé", output);
        Assert.Contains("lignes", output);                     // the share of rejected rows is one reason
        Assert.Contains("Rien n'a été modifié", output);
        Assert.Equal(before, await TableChecksums.RowVersionsAsync(db.DataSource));
    }

    [Fact]
    public async Task A_truncated_file_is_refused_and_changes_nothing_and_the_dry_run_shows_the_diff()
    {
        const int kept = 300; // header + 299 rows of ~890
        var path = TempFile("truncated.csv", Truncated(kept));
        var before = await TableChecksums.RowVersionsAsync(db.DataSource);
        // Independently of the guard: the collectivités open today whose October row is not among the kept lines.
        var expectedGone = await db.ScalarAsync<long>("""
            select count(*) from collectivite c
             where c.is_open and not exists (select 1 from observation o where o.collectivite_id = c.id
                     and o.source = 'odf-2022-10-19' and o.is_listed and o.source_line <= $1)
            """, kept);
        Assert.True(expectedGone > 100);

        var (code, output) = await Cli(db.ConnectionString, "import-status", path, "--date", "2022-11-01");
        Assert.Equal(5, code);
        Assert.Contains("Import refusé", output);
        Assert.Contains("MaxOpenRemovedShare", output);
        Assert.Equal(before, await TableChecksums.RowVersionsAsync(db.DataSource));

        var (dryCode, dry) = await Cli(db.ConnectionString, "import-status", path, "--date", "2022-11-01", "--essai");
        Assert.Equal(0, dryCode);
        Assert.Equal(expectedGone, long.Parse(Regex.Match(dry, @"ne sont plus listées \(n'apparaissent plus ouvertes\) : (\d+)").Groups[1].Value));
        Assert.Equal("0", Regex.Match(dry, @"nouvellement ouvertes : (\d+)").Groups[1].Value);
        Assert.Contains("serait REFUSÉ", dry);
        Assert.Matches(@"REJETÉE ligne 301 : \d+ colonnes", dry); // the line cut in its middle
        Assert.Equal(before, await TableChecksums.RowVersionsAsync(db.DataSource));
    }

    [Fact]
    public async Task A_partial_boundary_file_is_refused_and_changes_nothing()
    {
        var all = ReadGeoJson(Path.Combine(TestEnvironment.DataDir, "geo", "communes-2018.geojson.gz"));
        var features = all["features"]!.AsArray();
        var partial = new JsonObject
        {
            ["type"] = "FeatureCollection",
            ["features"] = new JsonArray(features.Take(1000).Select(f => f!.DeepClone()).ToArray()),
        };
        var path = Path.Combine(Directory.CreateTempSubdirectory("obs-guard-").FullName, "communes-partielles.geojson.gz");
        await using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            await gz.WriteAsync(Encoding.UTF8.GetBytes(partial.ToJsonString()));
        var before = await TableChecksums.RowVersionsAsync(db.DataSource);

        var (code, output) = await Cli(db.ConnectionString, "import", "--communes", path);

        Assert.Equal(5, code);
        Assert.Contains("Import refusé", output);
        Assert.Contains("MinBoundaryCoverage", output);
        Assert.Equal(before, await TableChecksums.RowVersionsAsync(db.DataSource));
    }

    static JsonNode ReadGeoJson(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        return JsonNode.Parse(gz)!;
    }

    [Fact]
    public void A_row_with_an_unterminated_quote_is_rejected_alone_and_the_next_row_is_read()
    {
        var lines = File.ReadAllLines(October);
        var header = lines[0];
        // Row 2 gets a quote opened in its third field and never closed; row 3 must still be read as itself.
        var path = TempFile("quote.csv", string.Join('\n', header, InsertOpenQuote(lines[1]), lines[2], lines[3]));
        var snapshot = OdfSnapshotReader.Read(path);

        var rejected = Assert.Single(snapshot.Rejected);
        Assert.Equal(2, rejected.Line);
        Assert.Contains("guillemet non fermé", rejected.Reason);
        Assert.Equal([3, 4], snapshot.Rows.Select(r => r.Line));
        var raw3 = RawOdf.Read(TempFile("line3.csv", header + '\n' + lines[2]), ',').Single();
        Assert.Equal(raw3.Siren, snapshot.Rows[0].Siren);
    }

    /// <summary>Opens a quote at the start of the line's third field and never closes it.</summary>
    static string InsertOpenQuote(string line)
    {
        var second = line.IndexOf(',', line.IndexOf(',') + 1);
        return line[..(second + 1)] + "\"" + line[(second + 1)..].Replace("\"", "");
    }

    [Fact]
    public void Urls_other_than_http_or_https_are_rejected_with_their_line_and_reason()
    {
        var lines = File.ReadAllLines(October);
        var header = lines[0].Split(',');
        var urlColumn = Array.IndexOf(header, "url-ptf");
        Assert.True(urlColumn >= 0);
        string WithUrl(string line, string url)
        {
            var raw = RawOdf.Read(TempFile("l.csv", lines[0] + '\n' + line), ',').Single();
            var fields = header.Select(h => raw[h]).ToArray();
            fields[urlColumn] = url;
            return string.Join(',', fields.Select(f => "\"" + f.Replace("\"", "\"\"") + "\""));
        }
        var path = TempFile("urls.csv", string.Join('\n', lines[0],
            WithUrl(lines[1], "javascript:alert(document.cookie)"),
            WithUrl(lines[2], "data:text/html,<script>alert(1)</script>"),
            WithUrl(lines[3], "https://data.exemple.fr/explore"),
            WithUrl(lines[4], "//evil.example/x")));
        var snapshot = OdfSnapshotReader.Read(path);

        Assert.Equal([2, 3, 5], snapshot.Rejected.Select(r => r.Line));
        Assert.All(snapshot.Rejected, r => Assert.Contains("seules les adresses http:// ou https://", r.Reason));
        Assert.Contains("javascript:alert", snapshot.Rejected[0].Reason);
        Assert.Equal("https://data.exemple.fr/explore", Assert.Single(snapshot.Rows).Url);
    }

    [Fact]
    public async Task A_stored_javascript_url_never_reaches_the_card()
    {
        // A row stored before the import refused such URLs (or written by hand): the card must not carry it.
        var row = (await db.RowsAsync("""
            select subject_key, collectivite_id, url from observation
             where source = 'odf-2022-10-19' and is_listed and collectivite_id like 'COM-%' order by collectivite_id limit 1
            """)).Single();
        var (subject, id, previous) = ((string)row[0]!, (string)row[1]!, row[2] as string);
        await db.ScalarAsync<int>("update observation set url = 'javascript:alert(1)' where source = 'odf-2022-10-19' and subject_key = $1 returning 1", subject);
        try
        {
            // A fresh application: no cached card.
            await using var app = db.App.WithWebHostBuilder(_ => { });
            var card = JsonNode.Parse(await app.CreateClient().GetStringAsync($"/api/collectivites/{id}"))!;
            var history = card["history"]!.AsArray();
            Assert.Contains(history, h => (string?)h!["source"] == "odf-2022-10-19");
            Assert.All(history, h => Assert.DoesNotContain("javascript", (string?)h!["url"] ?? ""));
        }
        finally
        {
            await db.ScalarAsync<int>("update observation set url = nullif($2, '') where source = 'odf-2022-10-19' and subject_key = $1 returning 1", subject, previous ?? "");
        }
    }
}
