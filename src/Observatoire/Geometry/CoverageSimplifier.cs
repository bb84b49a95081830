// TEMPORARY placeholder until the coverage simplifier lands (per-polygon, does not keep shared borders).
using NetTopologySuite.Geometries;
using NetTopologySuite.Simplify;
namespace Observatoire.Geometry;
public static class CoverageSimplifier
{
    public static MultiPolygon[] Simplify(IReadOnlyList<NetTopologySuite.Geometries.Geometry> coverage, double tolerance) =>
        coverage.Select(g => { var s = TopologyPreservingSimplifier.Simplify(g, tolerance); return s as MultiPolygon ?? g.Factory.CreateMultiPolygon([(Polygon)s]); }).ToArray();
}
