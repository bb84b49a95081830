using System.IO.Compression;
using Observatoire.Import;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

/// <summary>
/// Importing again changes nothing; a bad file or an interrupted import changes nothing either. On the
/// reference list alone: what the reference import writes is what is fingerprinted (the status and ATD
/// refreshes it ends with are the status import's tests).
/// </summary>
[LongChain(95)]
public sealed class ImportTransactionTests(ReferenceDatabase db) : IClassFixture<ReferenceDatabase>
{
    /// A fingerprint of every row the reference import writes (geometry as WKB hashes).
    Task<string> Fingerprint() => db.ScalarAsync<string>("""
        select md5(
          (select string_agg(c::text, '|' order by id) from collectivite c) ||
          (select string_agg(f::text, '|' order by code, kind, current_code) from former_commune f) ||
          (select string_agg(collectivite_id || md5(st_asbinary(geom)) || md5(st_asbinary(geom_mid)) || md5(st_asbinary(geom_low))
                             || md5(st_asbinary(label_point)) || source || repaired, '|' order by collectivite_id) from collectivite_geometry))
        """);

    static string CopyData()
    {
        var dir = Directory.CreateTempSubdirectory("obs-data-").FullName;
        foreach (var f in Directory.EnumerateFiles(TestEnvironment.DataDir, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(TestEnvironment.DataDir, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        return dir;
    }

    [Fact]
    public async Task Importing_the_same_files_twice_changes_nothing()
    {
        var before = await Fingerprint();
        var releases = await db.ScalarAsync<long>("select count(*) from data_release");
        var log = new StringWriter();
        // Unchanged inputs are recognised and skipped…
        await new ReferenceImporter(db.DataSource, log).ImportAsync(ReferenceImportOptions.Bundled(TestEnvironment.DataDir));
        Assert.Contains("rien à faire", log.ToString());
        Assert.Equal(releases, await db.ScalarAsync<long>("select count(*) from data_release"));
        // …and a forced reload gives exactly the same rows, without rewriting any of them (each keeps its
        // version: an unchanged row is not updated, which would only bloat the tables and their indexes).
        var versions = await TableChecksums.RowVersionsAsync(db.DataSource);
        await new ReferenceImporter(db.DataSource, log).ImportAsync(ReferenceImportOptions.Bundled(TestEnvironment.DataDir) with { Force = true });
        Assert.Equal(before, await Fingerprint());
        var after = await TableChecksums.RowVersionsAsync(db.DataSource);
        foreach (var table in new[] { "collectivite", "former_commune", "collectivite_geometry" })
            Assert.Equal((table, versions[table]), (table, after[table]));
    }

    [Fact]
    public async Task A_truncated_file_is_refused_with_a_message_naming_it_and_nothing_changes()
    {
        var before = await Fingerprint();
        var dir = CopyData();
        try
        {
            var communes = Path.Combine(dir, "cog-2026", "communes.json.gz");
            var bytes = await File.ReadAllBytesAsync(communes);
            await File.WriteAllBytesAsync(communes, bytes[..(bytes.Length / 2)]);
            var e = await Assert.ThrowsAsync<ImportException>(() =>
                new ReferenceImporter(db.DataSource, TextWriter.Null).ImportAsync(ReferenceImportOptions.Bundled(dir) with { Force = true }));
            Assert.Contains("communes.json.gz", e.Message);
            Assert.Matches("tronqu|corromp", e.Message);
            Assert.Equal(before, await Fingerprint());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_corrupt_geojson_is_refused_and_nothing_changes()
    {
        var before = await Fingerprint();
        var dir = CopyData();
        try
        {
            var deps = Path.Combine(dir, "geo", "departements-2018.geojson.gz");
            string text;
            using (var r = new StreamReader(new GZipStream(File.OpenRead(deps), CompressionMode.Decompress))) text = await r.ReadToEndAsync();
            // Valid gzip, broken JSON in the middle of a coordinate list.
            text = text[..(text.Length / 3)] + "]]}garbage" + text[(text.Length / 3)..];
            await using (var w = new StreamWriter(new GZipStream(File.Create(deps), CompressionLevel.Fastest))) await w.WriteAsync(text);
            var e = await Assert.ThrowsAsync<ImportException>(() =>
                new ReferenceImporter(db.DataSource, TextWriter.Null).ImportAsync(ReferenceImportOptions.Bundled(dir) with { Force = true }));
            Assert.Contains("departements-2018.geojson.gz", e.Message);
            Assert.Equal(before, await Fingerprint());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task An_import_interrupted_inside_its_transaction_leaves_the_previous_data()
    {
        var before = await Fingerprint();
        var releases = await db.ScalarAsync<long>("select count(*) from data_release");
        // Cancel once the writing has started (the log announces the COPY step).
        using var cts = new CancellationTokenSource();
        var log = new CancelOnWrite("Géométries", cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new ReferenceImporter(db.DataSource, log).ImportAsync(ReferenceImportOptions.Bundled(TestEnvironment.DataDir) with { Force = true }, cts.Token));
        Assert.Equal(before, await Fingerprint());
        Assert.Equal(releases, await db.ScalarAsync<long>("select count(*) from data_release"));
    }

    sealed class CancelOnWrite(string marker, CancellationTokenSource cts) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(marker) == true) cts.Cancel();
        }
    }
}
