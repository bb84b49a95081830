namespace Observatoire.Geometry;

/// <summary>
/// Which stored geometry serves which web-map zoom. Each band is simplified once per import, as a
/// coverage (CoverageSimplifier), with a tolerance below half a pixel at the band's deepest zoom
/// (a 256 px tile at zoom z spans 360/2^z degrees: 0.022°/px at z6, 0.0027°/px at z9).
/// </summary>
public static class ZoomBands
{
    /// <summary>geom_low: zooms 0–6 (national and regional views). ~1 km.</summary>
    public const double LowTolerance = 0.01;
    public const int LowMaxZoom = 6;

    /// <summary>
    /// geom_low is also snapped to this grid at import (~100 m, under a tenth of a pixel at z6), so its
    /// GeoJSON can be written with <see cref="LowDecimals"/> decimals without rounding making it
    /// invalid. Snapping moves a vertex shared by two neighbours identically on both sides.
    /// </summary>
    public const double LowGrid = 0.001;
    public const int LowDecimals = 3;

    /// <summary>geom_mid: zooms 7–9 (département views). ~200 m.</summary>
    public const double MidTolerance = 0.002;
    public const int MidMaxZoom = 9;

    /// <summary>Column to read for a zoom; zooms ≥ 10 use the imported geometry itself.</summary>
    public static string ColumnFor(int zoom) => zoom <= LowMaxZoom ? "geom_low" : zoom <= MidMaxZoom ? "geom_mid" : "geom";
}
