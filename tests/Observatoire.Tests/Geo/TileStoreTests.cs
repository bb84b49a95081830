using System.Net;
using Npgsql;
using NetTopologySuite.IO.VectorTiles.Mapbox;
using Observatoire.Map;
using Observatoire.Tests.Infrastructure;
using Observatoire.Tiles;
using TileId = NetTopologySuite.IO.VectorTiles.Tiles.Tile;

namespace Observatoire.Tests.Geo;

/// <summary>
/// The pre-rendered default-view tiles (map_tile, seeded by the bundled load): complete, identical to
/// a fresh rendering, actually served, and replaced with each data release.
/// </summary>
[LongChain(45)]
public sealed class TileStoreTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    static readonly MapOptions Options = new();

    async Task<int> ReleaseAsync() => await db.ScalarAsync<int>("select max(id) from data_release");

    async Task<byte[]?> StoredAsync(int release, int z, int x, int y)
    {
        var rows = await db.RowsAsync("select mvt from map_tile where release = $1 and layer = 'communes' and z = $2 and x = $3 and y = $4",
            release, (short)z, x, y);
        return rows.Count == 0 ? null : (byte[])rows[0][0]!;
    }

    async Task<byte[]> RenderAsync(int z, int x, int y)
    {
        await using var cmd = db.DataSource.CreateCommand();
        cmd.CommandText = TileEndpoints.RenderSql("communes", z, x, y, Options.TileFeatureCap, MapFilters.Default, cmd);
        return await cmd.ExecuteScalarAsync() is byte[] b ? b : [];
    }

    [Fact]
    public async Task Every_commune_is_in_the_stored_tile_under_its_label_point_at_every_stored_zoom()
    {
        var release = await ReleaseAsync();
        var seed = await db.RowsAsync("select tiles from map_tile_seed where release = $1 and layer = 'communes'", release);
        Assert.Single(seed);
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from map_tile where release = $1 and layer = 'communes'", release),
            Convert.ToInt64(seed[0][0]));

        var communes = await db.RowsAsync("""
            select c.code, ST_X(g.label_point), ST_Y(g.label_point)
              from collectivite c join collectivite_geometry g on g.collectivite_id = c.id where c.type = 'COM'
            """);
        Assert.True(communes.Count > 34_000);
        for (var z = Options.CommuneTileMinZoom; z <= Options.TileStoreMaxZoom; z++)
        {
            var byTile = communes.GroupBy(c => SlippyTiles.TileOf((double)c[1]!, (double)c[2]!, z));
            foreach (var tile in byTile)
            {
                var bytes = await StoredAsync(release, z, tile.Key.X, tile.Key.Y);
                Assert.True(bytes is { Length: > 0 }, $"tuile {z}/{tile.Key.X}/{tile.Key.Y} absente ou vide");
                var layer = Assert.Single(new MapboxTileReader().Read(new MemoryStream(bytes!), new TileId(tile.Key.X, tile.Key.Y, z)).Layers);
                var codes = layer.Features.Select(f => (string)f.Attributes["code"]).ToHashSet();
                foreach (var c in tile)
                    Assert.True(codes.Contains((string)c[0]!), $"commune {c[0]} absente de la tuile {z}/{tile.Key.X}/{tile.Key.Y}");
            }
        }
    }

    [Fact]
    public async Task Stored_tiles_have_the_bytes_of_a_fresh_rendering()
    {
        var release = await ReleaseAsync();
        // A fixed sample across zooms, from dense (Paris, Lyon) to sparse and overseas tiles.
        var sample = await db.RowsAsync("""
            select z, x, y from map_tile where release = $1 and layer = 'communes'
             order by md5(z || '/' || x || '/' || y) limit 40
            """, release);
        Assert.Equal(40, sample.Count);
        foreach (var r in sample)
        {
            int z = (short)r[0]!, x = (int)r[1]!, y = (int)r[2]!;
            Assert.Equal(await RenderAsync(z, x, y), await StoredAsync(release, z, x, y));
        }
    }

    [Fact]
    public async Task Tiles_the_seed_left_out_are_empty_and_answered_204()
    {
        var release = await ReleaseAsync();
        // The riskiest tiles: the neighbours of stored ones (coasts, borders), where a commune just
        // past the tile's edge could still reach into its buffer.
        var ring = await db.RowsAsync("""
            select distinct t.z, t.x + dx, t.y + dy
              from map_tile t, generate_series(-1, 1) dx, generate_series(-1, 1) dy
             where t.release = $1 and t.layer = 'communes' and t.z in (7, 8, 10)
               and not exists (select 1 from map_tile s where s.release = t.release and s.layer = t.layer
                                  and s.z = t.z and s.x = t.x + dx and s.y = t.y + dy)
             order by 1, 2, 3
            """, release);
        Assert.True(ring.Count > 100, $"{ring.Count} voisines seulement");
        foreach (var r in ring.Where((_, i) => i % 3 == 0))
            Assert.Empty(await RenderAsync((short)r[0]!, (int)r[1]!, (int)r[2]!));

        var client = db.App.CreateClient();
        var first = ring[0];
        var res = await client.GetAsync($"/tiles/communes/{first[0]}/{first[1]}/{first[2]}.pbf");
        Assert.Equal(HttpStatusCode.NoContent, res.StatusCode);
    }

    [Fact]
    public async Task The_endpoint_answers_default_tiles_from_the_store_and_filtered_ones_by_rendering()
    {
        var release = await ReleaseAsync();
        var (x, y) = SlippyTiles.TileOf(4.83, 45.76, 10);   // Lyon
        var stored = await StoredAsync(release, 10, x, y);
        Assert.NotNull(stored);
        var other = (await db.RowsAsync("select mvt from map_tile where release = $1 and layer = 'communes' and z = 10 and length(mvt) > 0 and (x, y) <> ($2, $3) limit 1",
            release, x, y))[0][0] as byte[];
        var client = db.App.CreateClient();
        await MapCache.EvictAsync(db.App.Services);   // the server re-reads the release another test may have added
        try
        {
            // Swap the stored bytes: if the endpoint answers them, it read the store (the unique query
            // parameter, which the endpoint ignores, keeps other tests' cached answers out of the way).
            var url = $"/tiles/communes/10/{x}/{y}.pbf?essai={Guid.NewGuid():N}";
            Assert.Equal(stored, await client.GetByteArrayAsync(url));
            await db.ScalarAsync<int>("update map_tile set mvt = $1 where release = $2 and layer = 'communes' and z = 10 and x = $3 and y = $4 returning 1",
                other!, release, x, y);
            // Same URL again: a stored tile is not copied into the output cache, so the store answers.
            var res = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            Assert.Equal(other, await res.Content.ReadAsByteArrayAsync());

            // A filter is never answered from the store: it renders the real tile's filtered subset.
            var filtered = await client.GetAsync($"/tiles/communes/10/{x}/{y}.pbf?obliged=true&essai={Guid.NewGuid():N}");
            Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
            var layer = Assert.Single(new MapboxTileReader().Read(await filtered.Content.ReadAsStreamAsync(), new TileId(x, y, 10)).Layers);
            Assert.Contains(layer.Features, f => (string)f.Attributes["code"] == "69123");
            Assert.All(layer.Features, f => Assert.NotEqual("other", f.Attributes["status"]));
        }
        finally
        {
            await db.ScalarAsync<int>("update map_tile set mvt = $1 where release = $2 and layer = 'communes' and z = 10 and x = $3 and y = $4 returning 1",
                stored!, release, x, y);
        }
    }

    [Fact]
    public async Task A_status_release_redraws_the_tiles_of_the_communes_that_changed_and_reuses_the_others_byte_for_byte()
    {
        var before = await ReleaseAsync();
        var count = await db.ScalarAsync<long>("select count(*) from map_tile where release = $1 and layer = 'communes'", before);
        // Open the three largest closed communes of Bretagne, close its largest open one (observations of a new day).
        await db.ScalarAsync<int>("""
            with pick as ((select id, true as open from collectivite where type = 'COM' and region_code = '53' and not is_open order by population desc limit 3)
                          union all (select id, false from collectivite where type = 'COM' and region_code = '53' and is_open order by population desc limit 1))
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, match_method)
            select 'essai-tuiles:' || id, id, current_date, 'essai-tuiles', open, 'siren' from pick
            returning 1
            """);
        var release = await db.ScalarAsync<int>("insert into data_release (kind, vintage, checksum) values ('status', 'essai-tuiles', 'essai') returning id");
        var log = new StringWriter();
        await TileStore.SeedAsync(db.DataSource, Options, log);
        var drawn = int.Parse(System.Text.RegularExpressions.Regex.Match(log.ToString(), @"\((\d+) dessinées, (\d+) reprises").Groups[1].Value);
        Assert.InRange(drawn, 4, count / 10);   // the four communes' tiles at each zoom, not the whole map

        // Every tile of the release, drawn or reused, has the bytes of a fresh rendering.
        var tiles = await db.RowsAsync("select z, x, y, mvt from map_tile where release = $1 and layer = 'communes'", release);
        Assert.Equal(count, tiles.Count);
        foreach (var t in tiles)
            Assert.Equal(await RenderAsync((short)t[0]!, (int)t[1]!, (int)t[2]!), (byte[])t[3]!);
    }

    [Fact]
    public async Task A_new_release_gets_its_own_tiles_and_the_old_ones_are_dropped()
    {
        var before = await ReleaseAsync();
        var count = await db.ScalarAsync<long>("select count(*) from map_tile where release = $1", before);
        var log = new StringWriter();
        // Seeding again the same release does nothing.
        await TileStore.SeedAsync(db.DataSource, Options, log);
        Assert.Equal("", log.ToString());

        var after = await db.ScalarAsync<int>("insert into data_release (kind, vintage, checksum) values ('essai-tuiles', 'essai', 'essai') returning id");
        await MapCache.EvictAsync(db.App.Services);   // the server must not keep the previous release for 5 s
        await TileStore.SeedAsync(db.DataSource, Options, log);
        Assert.Contains("Tuiles pré-calculées (communes", log.ToString());
        Assert.Equal(count, await db.ScalarAsync<long>("select count(*) from map_tile where release = $1", after));
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from map_tile where release <> $1", after));
        Assert.Equal(0L, await db.ScalarAsync<long>("select count(*) from map_tile_seed where release <> $1", after));
        var (x, y) = SlippyTiles.TileOf(-1.68, 48.11, 9);
        Assert.Equal(await RenderAsync(9, x, y), await StoredAsync(after, 9, x, y));
    }
}
