namespace Observatoire.Tests.Infrastructure;

/// <summary>Tile numbering of web maps (XYZ, Web Mercator, as Leaflet numbers them), written from the formula, independent of PostGIS.</summary>
public static class SlippyTiles
{
    /// <summary>The tile holding a lon/lat at a zoom.</summary>
    public static (int X, int Y) TileOf(double lon, double lat, int z)
    {
        var n = 1 << z;
        var r = lat * Math.PI / 180;
        return ((int)Math.Floor((lon + 180) / 360 * n), (int)Math.Floor((1 - Math.Log(Math.Tan(r) + 1 / Math.Cos(r)) / Math.PI) / 2 * n));
    }
}
