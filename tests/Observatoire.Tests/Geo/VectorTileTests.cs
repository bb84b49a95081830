using System.Net;
using System.Text.Json;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO.VectorTiles.Mapbox;
using Observatoire.Tests.Infrastructure;
using TileId = NetTopologySuite.IO.VectorTiles.Tiles.Tile;

namespace Observatoire.Tests.Geo;

/// <summary>/tiles/{layer}/{z}/{x}/{y}.pbf decoded by an independent reader (NetTopologySuite.IO.VectorTiles).</summary>
public sealed class VectorTileTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    async Task<NetTopologySuite.IO.VectorTiles.VectorTile> ReadAsync(string layer, int z, int x, int y, string query = "")
    {
        var res = await db.App.CreateClient().GetAsync($"/tiles/{layer}/{z}/{x}/{y}.pbf{query}");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/vnd.mapbox-vector-tile", res.Content.Headers.ContentType?.MediaType);
        await using var s = await res.Content.ReadAsStreamAsync();
        return new MapboxTileReader().Read(s, new TileId(x, y, z));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(8)]
    public async Task The_communes_tile_over_Rennes_holds_Rennes_with_its_status(int z)
    {
        var raw = RawCog.CurrentCommunes.Single(c => (string?)c["code"] == "35238");
        var (x, y) = SlippyTiles.TileOf(-1.68, 48.11, z);
        var tile = await ReadAsync("communes", z, x, y);
        var layer = Assert.Single(tile.Layers);
        Assert.Equal("communes", layer.Name);
        var rennes = layer.Features.Single(f => (string)f.Attributes["code"] == "35238");
        if (z >= 9) Assert.Equal((string)raw["nom"]!, rennes.Attributes["name"]);
        Assert.Equal((long)(int)raw["population"]!, Convert.ToInt64(rennes.Attributes["population"]));
        var isOpen = await db.ScalarAsync<bool>("select is_open from collectivite where id = 'COM-35238'");
        Assert.Equal(isOpen ? "open" : "obliged", rennes.Attributes["status"]);   // ≥ 3,500 inhabitants: obliged
        Assert.True(rennes.Geometry is Polygon or MultiPolygon);
        // Decoded back to lon/lat, the shape lies around Rennes' label point.
        Assert.True(rennes.Geometry.EnvelopeInternal.Contains(new Coordinate(-1.68, 48.11)));
        // Only the properties the map needs (names from zoom 9).
        string[] expected = z >= 9 ? ["code", "name", "population", "status"] : ["code", "population", "status"];
        Assert.Equal(expected, rennes.Attributes.GetNames().Order().ToArray());
        // Every commune of the tile is a current commune of the raw list.
        var codes = RawCog.CurrentCommunes.Select(c => (string)c["code"]!).ToHashSet();
        Assert.All(layer.Features, f => Assert.Contains((string)f.Attributes["code"], codes));
    }

    [Fact]
    public async Task The_epci_tile_has_the_epci_layer()
    {
        var (x, y) = SlippyTiles.TileOf(-1.68, 48.11, 8);
        var tile = await ReadAsync("epci", 8, x, y);
        var layer = Assert.Single(tile.Layers);
        Assert.Equal("epci", layer.Name);
        Assert.Contains(layer.Features, f => (string)f.Attributes["code"] == "243500139");
    }

    [Fact]
    public async Task A_filter_removes_features_from_the_tile()
    {
        var (x, y) = SlippyTiles.TileOf(-1.68, 48.11, 10);
        var all = await ReadAsync("communes", 10, x, y);
        var obliged = await ReadAsync("communes", 10, x, y, "?obliged=true");
        Assert.True(obliged.Layers.Single().Features.Count < all.Layers.Single().Features.Count);
        Assert.All(obliged.Layers.Single().Features, f => Assert.NotEqual("other", f.Attributes["status"]));
    }

    [Fact]
    public async Task Below_the_minimum_zoom_or_at_sea_the_tile_is_empty()
    {
        var client = db.App.CreateClient();
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/tiles/communes/4/7/5.pbf")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/tiles/communes/10/100/100.pbf")).StatusCode);   // mid-Atlantic
    }

    [Theory]
    [InlineData("/tiles/communes/3/9/1.pbf", 400)]
    [InlineData("/tiles/routes/8/126/88.pbf", 404)]
    [InlineData("/tiles/communes/30/1/1.pbf", 400)]
    public async Task Bad_tiles_get_problem_details(string url, int status)
    {
        var res = await db.App.CreateClient().GetAsync(url);
        Assert.Equal(status, (int)res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("detail").GetString()));
    }
}
