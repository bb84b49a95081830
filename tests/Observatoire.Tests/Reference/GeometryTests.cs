using System.IO.Compression;
using System.Text.Json;
using Observatoire.Geometry;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

public sealed class GeometryTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    static HashSet<string> GeoCodes(string file)
    {
        using var s = new GZipStream(File.OpenRead(Path.Combine(TestEnvironment.DataDir, "geo", file)), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(s);
        return doc.RootElement.GetProperty("features").EnumerateArray()
            .Select(f => f.GetProperty("properties").GetProperty("code").GetString()!).ToHashSet();
    }

    [Fact]
    public async Task Every_epci_contains_the_label_points_of_all_its_member_communes()
    {
        var outside = await db.RowsAsync("""
            select e.code, m.code from collectivite e
              join collectivite m on m.type = 'COM' and (m.epci_siren = e.siren or (e.type = 'EPT' and m.ept_siren = e.siren))
              join collectivite_geometry eg on eg.collectivite_id = e.id
              join collectivite_geometry mg on mg.collectivite_id = m.id
             where e.type in ('CC','CA','CU','MET','EPT') and not st_intersects(eg.geom, mg.label_point)
            """);
        Assert.Empty(outside);
        // Every EPCI whose members have geometry has one itself.
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from collectivite where type in ('CC','CA','CU','MET','EPT') and not has_geometry"));
        // Label points lie on their own surface.
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from collectivite_geometry where not st_intersects(geom, label_point)"));
    }

    [Fact]
    public async Task Communes_without_geometry_are_kept_and_flagged()
    {
        var geo = GeoCodes("communes-2018.geojson.gz");
        var current = RawCog.CurrentCommunes.Select(c => (string)c["code"]!).ToHashSet();
        var expectedMissing = RawCog.CurrentCommunes
            .Where(c => !geo.Contains((string)c["code"]!)
                        && !(c["anciensCodes"]?.AsArray().Any(a => geo.Contains((string)a!) && !current.Contains((string)a!)) ?? false))
            .Select(c => (string)c["code"]!).Order().ToList();
        var missing = (await db.RowsAsync("select code from collectivite where type = 'COM' and not has_geometry order by code"))
            .Select(r => (string)r[0]!).ToList();
        Assert.Equal(expectedMissing, missing);
        Assert.InRange(missing.Count, 1, 150);
        // The import report counts them.
        Assert.Equal(missing.Count, await db.ScalarAsync<int>(
            "select jsonb_array_length(report->'geometry'->'missingCommunes') from data_release where kind = 'reference' order by id desc limit 1"));
    }

    [Fact]
    public async Task Geometries_are_valid_multipolygons_in_wgs84_with_simplified_bands()
    {
        var r = (await db.RowsAsync("""
            select count(*) filter (where not st_isvalid(geom) or not st_isvalid(geom_mid) or not st_isvalid(geom_low)),
                   count(*) filter (where st_srid(geom) <> 4326 or geometrytype(geom) <> 'MULTIPOLYGON'),
                   count(*) filter (where st_isempty(geom_low) or st_isempty(geom_mid)),
                   sum(st_npoints(geom)), sum(st_npoints(geom_mid)), sum(st_npoints(geom_low))
              from collectivite_geometry
            """)).Single();
        Assert.Equal(0L, (long)r[0]!);
        Assert.Equal(0L, (long)r[1]!);
        Assert.Equal(0L, (long)r[2]!);
        Assert.True((long)r[4]! < (long)r[3]! * 0.5, "geom_mid devrait avoir moins de la moitié des sommets");
        Assert.True((long)r[5]! < (long)r[4]! * 0.6, "geom_low devrait être plus simple que geom_mid");
        Assert.Equal(GeoCodes("departements-2018.geojson.gz").Order(), (await db.RowsAsync(
            "select c.code from collectivite c join collectivite_geometry g on g.collectivite_id = c.id where c.type = 'DEP' order by 1")).Select(x => (string)x[0]!));
    }

    [Fact]
    public async Task Simplified_departements_keep_shared_borders_without_overlaps_or_gaps()
    {
        foreach (var col in new[] { "geom_low", "geom_mid" })
        {
            var r = (await db.RowsAsync($"""
                with d as (select g.* from collectivite_geometry g join collectivite c on c.id = g.collectivite_id where c.type = 'DEP' and c.region_code not in ('01','02','03','04','06'))
                select (select coalesce(sum(st_area(st_intersection(a.{col}, b.{col}))), 0) from d a join d b on a.collectivite_id < b.collectivite_id and a.{col} && b.{col} and st_intersects(a.{col}, b.{col})),
                       (select sum(st_area({col})) from d),
                       (select st_area(st_union({col})) from d),
                       (select count(*) from d a join d b on a.collectivite_id < b.collectivite_id and st_intersects(a.geom, b.geom)),
                       (select count(*) from d a join d b on a.collectivite_id < b.collectivite_id and st_intersects(a.{col}, b.{col}))
                """)).Single();
            double overlap = (double)r[0]!, sum = (double)r[1]!, union = (double)r[2]!;
            Assert.True(overlap / sum < 1e-5, $"{col} : chevauchements {overlap / sum:E2} de la surface");
            Assert.True(Math.Abs(union - sum) / sum < 1e-5, $"{col} : union {union} ≠ somme {sum}");
            // Neighbours stay neighbours (no gap opened between them).
            Assert.Equal((long)r[3]!, (long)r[4]!);
        }
    }

    /// <summary>
    /// The stored simplified columns of communes and EPCI (not only départements) keep their shared
    /// borders: computed by PostGIS on what the import stored (after its repairs and the snapping of
    /// geom_low), over the neighbours of the full-resolution geometry of a sample of areas.
    /// </summary>
    [Theory]
    [InlineData("c.type = 'COM' and c.departement_code in ('35', '22')")]
    [InlineData("c.type in ('CC', 'CA', 'CU', 'MET') and c.region_code in ('53', '52')")]
    [InlineData("c.type = 'EPT'")]
    public async Task Simplified_neighbours_keep_their_shared_border(string selection)
    {
        foreach (var (col, tolerance) in new[] { ("geom_mid", ZoomBands.MidTolerance), ("geom_low", ZoomBands.LowTolerance) })
        {
            var pairs = await db.RowsAsync($"""
                with d as (select g.* from collectivite_geometry g join collectivite c on c.id = g.collectivite_id where {selection})
                select a.collectivite_id || ' / ' || b.collectivite_id,
                       st_length(st_collectionextract(st_intersection(a.geom, b.geom), 2)),
                       st_length(st_collectionextract(st_intersection(a.{col}, b.{col}), 2)),
                       st_area(st_intersection(a.{col}, b.{col}))
                  from d a join d b on a.collectivite_id < b.collectivite_id and a.geom && b.geom and st_intersects(a.geom, b.geom)
                """);
            Assert.True(pairs.Count >= 10, $"{selection} : {pairs.Count} paires de voisins");
            var area = await db.ScalarAsync<double>($"select sum(st_area(g.{col})) from collectivite_geometry g join collectivite c on c.id = g.collectivite_id where {selection}");
            var rows = pairs.Select(r => (Pair: (string)r[0]!, Full: (double)r[1]!, Simplified: (double)r[2]!, Overlap: (double)r[3]!)).ToList();
            // No overlap: two neighbours' simplified shapes meet along lines, not surfaces.
            Assert.True(rows.Sum(r => r.Overlap) / area < 1e-5, $"{col} ({selection}) : chevauchements {rows.Sum(r => r.Overlap) / area:E2} de la surface");
            // No gap: a border longer than a few tolerances is still shared, and most of its length with it
            // (simplifying straightens it: shorter, but not apart).
            var lost = rows.Where(r => r.Full > 5 * tolerance && r.Simplified == 0).Select(r => r.Pair).ToList();
            Assert.True(lost.Count == 0, $"{col} : frontière perdue entre {string.Join(", ", lost.Take(10))}");
            var ratio = rows.Sum(r => r.Simplified) / rows.Sum(r => r.Full);
            Assert.True(ratio > 0.7, $"{col} ({selection}) : frontières partagées {ratio:P0} de leur longueur d'origine");
        }
    }
}
