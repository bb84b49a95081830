namespace Observatoire.Tests.Geometry;

// Inside the namespace so that `Geometry` names NetTopologySuite's type, not `Observatoire.Tests.Geometry`.
using System.IO.Compression;
using System.Text.Json;
using NetTopologySuite.Algorithm.Distance;
using CoverageValidator = NetTopologySuite.Coverage.CoverageValidator; // not the namespace: it has its own CoverageSimplifier
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Prepared;
using NetTopologySuite.Index.Strtree;
using NetTopologySuite.IO.Converters;
using NetTopologySuite.Operation.Union;
using Observatoire.Geometry;

public class CoverageSimplifierTests
{
    private static readonly GeometryFactory Factory = new(new PrecisionModel(), 4326);

    // ------------------------------------------------------------------ synthetic coverages

    /// <summary>Border from (10,0) to (10,10): a triangular bump peaking exactly at (12,5), with ±0.05
    /// zigzag noise on the other 98 vertices.</summary>
    private static List<Coordinate> WigglyBorder()
    {
        var border = new List<Coordinate> { new(10, 0) };
        for (int k = 1; k < 100; k++)
        {
            double y = k / 10.0;
            double bump = 2 * (1 - Math.Abs(y - 5) / 5);
            double noise = k == 50 ? 0 : (k % 2 == 0 ? 0.05 : -0.05);
            border.Add(new Coordinate(10 + bump + noise, y));
        }
        border.Add(new Coordinate(10, 10));
        return border;
    }

    private static Polygon Polygon(IEnumerable<Coordinate> shell, params IEnumerable<Coordinate>[] holes)
        => Factory.CreatePolygon(Ring(shell), holes.Select(Ring).ToArray());

    private static LinearRing Ring(IEnumerable<Coordinate> points)
    {
        var list = points.Select(c => new Coordinate(c.X, c.Y)).ToList();
        if (!list[0].Equals2D(list[^1])) list.Add(new Coordinate(list[0].X, list[0].Y));
        return Factory.CreateLinearRing(list.ToArray());
    }

    private static (Polygon Left, Polygon Right) TwoSquares()
    {
        var border = WigglyBorder();
        // Left square, counter-clockwise: bottom edge, then the border upwards, then the top edge.
        var left = Polygon(new[] { new Coordinate(0, 0) }.Concat(border).Append(new Coordinate(0, 10)));
        // Right square, counter-clockwise too, so it traverses the border downwards.
        var right = Polygon(new[] { new Coordinate(20, 0), new Coordinate(20, 10) }
            .Concat(Enumerable.Reverse(border)));
        return (left, right);
    }

    /// <summary>Ring vertices (without the closing one) from <paramref name="from"/> up to
    /// <paramref name="to"/>, in ring order.</summary>
    private static List<Coordinate> Stretch(LineString ring, Coordinate from, Coordinate to)
    {
        var c = ring.Coordinates[..^1];
        int start = Array.FindIndex(c, p => p.Equals2D(from));
        Assert.True(start >= 0, $"{from} is not a vertex of {ring}");
        var result = new List<Coordinate>();
        for (int k = 0; k < c.Length; k++)
        {
            var p = c[(start + k) % c.Length];
            result.Add(p);
            if (p.Equals2D(to)) return result;
        }
        throw new Xunit.Sdk.XunitException($"{to} is not a vertex of {ring}");
    }

    private static void AssertSameCoordinates(IReadOnlyList<Coordinate> expected, IReadOnlyList<Coordinate> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int k = 0; k < expected.Count; k++)
            Assert.True(expected[k].Equals2D(actual[k]), $"vertex {k}: expected {expected[k]}, got {actual[k]}");
    }

    private static void AssertNoGapNoOverlap(MultiPolygon a, MultiPolygon b, double relative)
    {
        double sum = a.Area + b.Area;
        Assert.True(a.Intersection(b).Area <= relative * sum, $"overlap {a.Intersection(b).Area}");
        Assert.Equal(sum, a.Union(b).Area, relative * sum);
    }

    [Fact]
    public void Shared_wiggly_border_is_simplified_identically_on_both_sides()
    {
        var (left, right) = TwoSquares();

        var result = CoverageSimplifier.Simplify([left, right], 0.5, out var stats);

        Assert.Equal(2, result.Length);
        Assert.Equal(2, stats.Junctions); // (10,0) and (10,10)
        Assert.Equal(3, stats.Arcs);      // the border, and the rest of each square
        var leftRing = ((Polygon)result[0].GetGeometryN(0)).Shell;
        var rightRing = ((Polygon)result[1].GetGeometryN(0)).Shell;
        var leftBorder = Stretch(leftRing, new Coordinate(10, 0), new Coordinate(10, 10));
        var rightBorder = Stretch(rightRing, new Coordinate(10, 10), new Coordinate(10, 0));
        // The noise (0.05) is below the tolerance, the bump (2) above: only its peak survives.
        AssertSameCoordinates([new(10, 0), new(12, 5), new(10, 10)], leftBorder);
        AssertSameCoordinates(leftBorder, Enumerable.Reverse(rightBorder).ToList());

        AssertNoGapNoOverlap(result[0], result[1], 1e-12);
        Assert.Equal(200, result[0].Area + result[1].Area, 1e-9); // the two squares, whatever the border
        Assert.True(result[0].NumPoints < 10 && result[1].NumPoints < 10,
            $"{left.NumPoints} -> {result[0].NumPoints}, {right.NumPoints} -> {result[1].NumPoints}");
        Assert.True(result[0].IsValid && result[1].IsValid);
        Assert.Equal(4326, result[0].SRID);
        Assert.True(DiscreteHausdorffDistance.Distance(left, result[0]) <= 0.5);
    }

    [Fact]
    public void Negative_zero_and_zero_are_the_same_vertex()
    {
        // Shared border along y = 0, written with +0.0 by one polygon and -0.0 by the other.
        var border = Enumerable.Range(0, 21).Select(k => new Coordinate(k, k % 2 == 0 ? 0.0 : 0.01)).ToList();
        var top = Polygon(border.Append(new Coordinate(20, 5)).Append(new Coordinate(0, 5)));
        var bottom = Polygon(Enumerable.Reverse(border).Select(c => new Coordinate(c.X, c.Y == 0 ? -0.0 : c.Y))
            .Append(new Coordinate(0, -5)).Append(new Coordinate(20, -5)));

        var result = CoverageSimplifier.Simplify([top, bottom], 0.1, out var stats);

        Assert.Equal(2, stats.Junctions);
        Assert.Equal(3, stats.Arcs);
        Assert.Equal(21 + 4, stats.DistinctPoints);
        Assert.Equal(5, result[0].NumPoints); // a rectangle: the border became one straight edge
        AssertNoGapNoOverlap(result[0], result[1], 1e-12);
    }

    /// <summary>Noisy circle of 200 vertices, counter-clockwise, starting at angle 0.</summary>
    private static List<Coordinate> NoisyCircle(double cx, double cy, double radius, int n = 200)
    {
        var points = new List<Coordinate>();
        for (int k = 0; k < n; k++)
        {
            double angle = 2 * Math.PI * k / n, r = radius + (k % 3 - 1) * 0.02;
            points.Add(new Coordinate(Math.Round(cx + r * Math.Cos(angle), 6), Math.Round(cy + r * Math.Sin(angle), 6)));
        }
        return points;
    }

    /// <summary>The ring's vertices as a cycle in a canonical form: rotated to the smallest coordinate,
    /// direction towards its smaller neighbour.</summary>
    private static List<Coordinate> CanonicalCycle(LineString ring)
    {
        var c = ring.Coordinates[..^1].ToList();
        int min = c.IndexOf(c.Min()!);
        int n = c.Count;
        bool forward = c[(min + 1) % n].CompareTo(c[(min + n - 1) % n]) < 0;
        return Enumerable.Range(0, n).Select(k => c[forward ? (min + k) % n : (min - k + n) % n]).ToList();
    }

    [Fact]
    public void Enclave_and_the_hole_around_it_are_simplified_identically()
    {
        var circle = NoisyCircle(5, 5, 3);
        var square = new[] { new Coordinate(0, 0), new Coordinate(10, 0), new Coordinate(10, 10), new Coordinate(0, 10) };
        // The hole is clockwise; the enclave walks the same vertices counter-clockwise from another start.
        var outer = Polygon(square, Enumerable.Reverse(circle));
        var enclave = Polygon(circle.Skip(37).Concat(circle.Take(37)));

        var result = CoverageSimplifier.Simplify([outer, enclave], 0.2);

        var outerPolygon = (Polygon)result[0].GetGeometryN(0);
        var enclavePolygon = (Polygon)result[1].GetGeometryN(0);
        Assert.Equal(1, outerPolygon.NumInteriorRings);
        AssertSameCoordinates(CanonicalCycle(enclavePolygon.Shell), CanonicalCycle(outerPolygon.Holes[0]));
        Assert.InRange(enclavePolygon.Shell.NumPoints, 8, 40); // simplified, yet still a circle-like shape
        AssertNoGapNoOverlap(result[0], result[1], 1e-12);
        Assert.Equal(100, result[0].Area + result[1].Area, 1e-9);
        Assert.True(result[0].IsValid && result[1].IsValid);
    }

    [Fact]
    public void Tiny_island_keeps_a_triangle()
    {
        var island = Polygon(NoisyCircle(0, 0, 0.05, 12));

        var result = CoverageSimplifier.Simplify([island], 1.0);

        Assert.False(result[0].IsEmpty);
        Assert.Equal(4, result[0].NumPoints);
        Assert.True(result[0].Area > 0 && result[0].IsValid);
    }

    [Fact]
    public void Island_is_not_swallowed_by_a_simplified_coast()
    {
        // The land's top edge dips to (5,9); the islet sits in the dip, outside the land. At tolerance 1.5
        // Douglas-Peucker drops (5,9) (1 unit off the chord), which would put the islet inside the land.
        var land = Polygon([new(0, 0), new(10, 0), new(10, 10), new(5, 9), new(0, 10)]);
        var islet = Polygon([new(4.8, 9.5), new(5.2, 9.5), new(5, 9.8)]);

        var result = CoverageSimplifier.Simplify([land, islet], 1.5, out var stats);

        Assert.Contains(result[0].Coordinates, c => c.Equals2D(new Coordinate(5, 9)));
        Assert.Equal(0, result[0].Intersection(result[1]).Area);
        Assert.True(stats.Refinements > 0);
    }

    [Fact]
    public void Simplified_edge_does_not_cross_a_neighbour()
    {
        // The land's top edge has a notch down to (5,0.5); a triangle pokes into it down to (5,0.8). At
        // tolerance 0.6 the notch (0.5 off the chord) goes, and the straightened edge would cut the triangle.
        var land = Polygon([new(0, 0), new(10, 0), new(10, 1), new(5, 0.5), new(0, 1)]);
        var spike = Polygon([new(2, 3), new(5, 0.8), new(8, 3)]);

        var result = CoverageSimplifier.Simplify([land, spike], 0.6);

        Assert.Contains(result[0].Coordinates, c => c.Equals2D(new Coordinate(5, 0.5)));
        Assert.False(result[0].Intersects(result[1]));
        Assert.True(result[0].IsValid);
    }

    [Fact]
    public void Keeps_order_srid_and_empty_inputs()
    {
        var (left, right) = TwoSquares();
        var lambert = new GeometryFactory(new PrecisionModel(), 2154);
        var moved = lambert.CreateMultiPolygon([lambert.CreatePolygon(right.Shell.Coordinates)]);
        var empty = Factory.CreatePolygon();

        var result = CoverageSimplifier.Simplify([moved, empty, left], 0.5);

        Assert.Equal(3, result.Length);
        Assert.Equal(2154, result[0].SRID);
        Assert.True(result[1].IsEmpty);
        // Simplified border (10,0) (12,5) (10,10): the bump's 10 units² belong to the left square.
        Assert.Equal(90, result[0].Area, 1e-9);
        Assert.Equal(110, result[2].Area, 1e-9);
        Assert.Equal(0, result[0].Intersection(result[2]).Area, 1e-12);
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        var (left, _) = TwoSquares();
        Assert.Throws<ArgumentNullException>(() => CoverageSimplifier.Simplify(null!, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoverageSimplifier.Simplify([left], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CoverageSimplifier.Simplify([left], double.NaN));
        Assert.Throws<ArgumentException>(() => CoverageSimplifier.Simplify([left, Factory.CreatePoint(new Coordinate(1, 1))], 1));
    }

    // ------------------------------------------------------------------ real data

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Observatoire.sln"))) return dir.FullName;
        throw new InvalidOperationException("Observatoire.sln not found above " + AppContext.BaseDirectory);
    }

    private static List<Geometry> LoadGeometries(string name)
    {
        var options = new JsonSerializerOptions();
        options.Converters.Add(new GeoJsonConverterFactory());
        using var stream = new GZipStream(File.OpenRead(Path.Combine(RepoRoot(), "data", "geo", name)), CompressionMode.Decompress);
        var features = JsonSerializer.Deserialize<FeatureCollection>(stream, options)!;
        return features.Select(f => f.Geometry).ToList();
    }

    /// <summary>Pairs of inputs that touch (share a border or a point).</summary>
    private static List<(int, int)> Neighbours(List<Geometry> inputs)
    {
        var index = new STRtree<int>();
        for (int i = 0; i < inputs.Count; i++) index.Insert(inputs[i].EnvelopeInternal, i);
        var pairs = new List<(int, int)>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var prepared = PreparedGeometryFactory.Prepare(inputs[i]);
            foreach (int j in index.Query(inputs[i].EnvelopeInternal))
                if (j > i && prepared.Intersects(inputs[j])) pairs.Add((i, j));
        }
        return pairs;
    }

    [Theory]
    [InlineData("departements-2018.geojson.gz", 101)]
    [InlineData("regions-2018.geojson.gz", 18)]
    public void Real_coverage_is_simplified_without_gaps_or_overlaps(string file, int count)
    {
        const double tolerance = 0.01;
        var inputs = LoadGeometries(file);
        Assert.Equal(count, inputs.Count);

        var outputs = CoverageSimplifier.Simplify(inputs, tolerance, out var stats);

        Assert.Equal(inputs.Count, outputs.Length);
        int before = inputs.Sum(g => g.NumPoints), after = outputs.Sum(g => g.NumPoints);
        Assert.True(after < 0.3 * before, $"{before} -> {after} vertices ({stats})");

        var neighbours = Neighbours(inputs);
        Assert.True(neighbours.Count >= count / 2, $"only {neighbours.Count} neighbour pairs");
        foreach (var (i, j) in neighbours)
        {
            double overlap = outputs[i].Intersection(outputs[j]).Area;
            Assert.True(overlap < 1e-6 * Math.Min(outputs[i].Area, outputs[j].Area),
                $"{file}: outputs {i} and {j} overlap by {overlap}");
        }

        double sum = outputs.Sum(g => g.Area);
        double union = UnaryUnionOp.Union(outputs).Area;
        Assert.True(Math.Abs(union - sum) < 1e-3 * sum, $"union {union} vs sum {sum}");
        // NetTopologySuite's own coverage check (the input passes it too; not re-checked here, it is slow at
        // full resolution): borders match exactly between neighbours, nothing overlaps.
        Assert.All(CoverageValidator.Validate(outputs.ToArray<Geometry>()), g => Assert.Null(g));

        for (int i = 0; i < outputs.Length; i++)
        {
            Assert.False(outputs[i].IsEmpty, $"output {i} is empty");
            Assert.True(outputs[i].IsValid, $"output {i} is invalid");
            double hausdorff = DiscreteHausdorffDistance.Distance(inputs[i], outputs[i]);
            Assert.True(hausdorff <= 2 * tolerance, $"output {i}: Hausdorff distance {hausdorff}");
            Assert.Equal(inputs[i].Area, outputs[i].Area, 0.05 * inputs[i].Area + 1e-4);
        }
    }
}
