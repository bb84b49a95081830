namespace Observatoire.Map;

/// <summary>
/// Limits and cache settings of the map endpoints (GeoJSON, vector tiles, search, cards), bound from
/// the "Map" section of appsettings.json, where every default is listed and commented.
/// </summary>
public sealed class MapOptions
{
    /// <summary>Most communes one GeoJSON answer may hold; beyond it the request is refused (400), never truncated.</summary>
    public int CommuneFeatureCap { get; set; } = 5000;

    /// <summary>Largest bbox (square degrees) for <c>/api/geo/communes</c>, per geometry band: full resolution (zoom ≥ 10), geom_mid (7–9), geom_low (≤ 6).</summary>
    public double CommuneBboxMaxAreaFull { get; set; } = 2;
    public double CommuneBboxMaxAreaMid { get; set; } = 16;
    public double CommuneBboxMaxAreaLow { get; set; } = 64;

    /// <summary>Most features in one vector tile (largest populations kept first).</summary>
    public int TileFeatureCap { get; set; } = 6000;

    /// <summary>Lowest zoom served per tile layer: below it a tile is empty (204).</summary>
    public int CommuneTileMinZoom { get; set; } = 7;
    public int EpciTileMinZoom { get; set; } = 5;

    /// <summary>
    /// Deepest zoom whose default-view tiles (no filter, today) are pre-rendered after each import
    /// (<see cref="Tiles.TileStore"/>); deeper tiles, and filtered ones, are rendered on request.
    /// </summary>
    public int TileStoreMaxZoom { get; set; } = 10;

    /// <summary>Deepest zoom served; deeper requests answer 400.</summary>
    public int MaxZoom { get; set; } = 18;

    /// <summary>Cache-Control max-age sent to browsers, in seconds. Revalidation (ETag) is cheap afterwards.</summary>
    public int BrowserMaxAgeSeconds { get; set; } = 300;

    /// <summary>How long the server trusts its last reading of the data release before re-reading it (imports run in another process).</summary>
    public int ReleaseCheckSeconds { get; set; } = 5;

    /// <summary>How long the output cache keeps an answer for the same release.</summary>
    public int OutputCacheMinutes { get; set; } = 60;

    /// <summary>Whether a client's "Cache-Control: no-cache" bypasses the output cache (off: the public cannot force recomputation; the map benchmark turns it on).</summary>
    public bool HonourClientNoCache { get; set; }
}
