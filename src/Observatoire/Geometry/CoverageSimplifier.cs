namespace Observatoire.Geometry;

// These usings sit inside the namespace on purpose: from inside `Observatoire.Geometry`, the simple name
// `Geometry` would otherwise resolve to this very namespace (via `Observatoire`) before reaching a
// compilation-unit using, and NetTopologySuite's `Geometry` type could not be named.
using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;
using NetTopologySuite.Index.Strtree;
using NetTopologySuite.Noding;

/// <summary>
/// Simplifies a polygonal coverage (polygons that tile a region without overlapping, sharing their
/// borders vertex for vertex: communes, EPCI, départements, régions) so that every border shared by two
/// polygons is simplified once and identically on both sides. This is the TopoJSON approach
/// (topojson-server "join"/"cut"/"dedup" followed by Douglas-Peucker on each arc), plus a repair pass.
/// </summary>
/// <remarks>
/// <para><b>Algorithm.</b>
/// (1) Every ring vertex is interned by its exact (x, y). A vertex is a <i>junction</i> if it is seen with
/// different unordered neighbour pairs {previous, next} in different rings, or more than once in the same
/// ring. (2) Each ring is cut at its junctions into <i>arcs</i>; a ring without junction (an island, or an
/// enclave and the hole around it) is one closed arc starting at its lexicographically smallest vertex.
/// Every arc is stored once in a canonical direction (decided on coordinates), so the neighbour that
/// traverses it backwards finds the same arc. (3) Each distinct arc gets Douglas-Peucker thresholds once
/// (endpoints always kept), from which the simplified arc at any tolerance is read off. (4) The simplified
/// arcs are checked; where a check fails, only the stretch of arc involved (between two kept vertices) is
/// refined, to <c>tolerance/4</c>, <c>/16</c>, <c>/64</c>, then to its original vertices, and the changed
/// arcs are checked again until nothing fails (see guarantees). (5) Rings are reassembled from their arcs
/// and one <see cref="MultiPolygon"/> is built per input.</para>
/// <para><b>Guarantees.</b>
/// <list type="bullet">
/// <item>Output <c>i</c> is the simplification of input <c>i</c>, a <see cref="MultiPolygon"/> built with
/// input <c>i</c>'s factory and SRID; it is empty only if input <c>i</c> is empty.</item>
/// <item>Every output vertex is an input vertex (no coordinate is created or moved). Junctions are always
/// kept, so are the smallest vertex of a closed ring and two more vertices of it (a closed ring keeps at
/// least a triangle).</item>
/// <item>A border shared vertex-for-vertex by two rings gets exactly the same vertex sequence in both
/// outputs (reversed where the rings traverse it in opposite directions): no gap or overlap appears along
/// shared borders, and the output is again a vertex-exact coverage.</item>
/// <item>Each simplified arc is within <c>tolerance</c> (Hausdorff distance, in coordinate units) of its
/// original, so each output boundary is within <c>tolerance</c> of its input boundary.</item>
/// <item>Repairs, checked on the simplified arcs and applied by refining the offending stretches: no two
/// simplified segments cross, touch or overlap except at a shared vertex (a junction, or consecutive
/// segments of one arc), which also rules out self-intersecting rings, a hole crossing its shell and
/// neighbours overlapping; no ring has fewer than 3 distinct vertices or a reversed or zero signed area;
/// no isolated part (island, hole, enclave and the hole around it, any group of polygons not connected to
/// the rest) is swept to the other side of a simplified arc of another part. Refinement only adds
/// vertices (a finer Douglas-Peucker result contains the coarser one), so it terminates, at worst with the
/// original vertices. Hence, for a valid vertex-exact input coverage, each output polygon is valid and
/// the outputs form a valid coverage, up to the limits below.</item>
/// </list></para>
/// <para><b>Limits.</b>
/// <list type="bullet">
/// <item>Only borders that share their vertices exactly are recognised as shared. Where two neighbours
/// disagree (a vertex of one lying on an edge of the other, slightly different coordinates), each side
/// is simplified on its own and gaps or overlaps of up to <c>tolerance</c> can open; the crossing check
/// may then refine those arcs back to their original vertices.</item>
/// <item>Invalid input stays invalid: a conflict between two original edges cannot be refined and is
/// left as it is (the other stretch, if simplified, is still refined). The output is not passed through
/// MakeValid.</item>
/// <item>The sweep check tests one vertex per connected group of arcs; a part connected to the rest only
/// through an endpoint of the very arc that sweeps over it is not detected. Its ray-crossing test is in
/// plain floating point, so a vertex within rounding distance of an arc may be misjudged.</item>
/// <item>Coordinates are treated as planar (tolerance in degrees for WGS84 data). Z and M are dropped.
/// Consecutive duplicate vertices are removed; input rings with fewer than 3 distinct vertices are
/// passed through unchanged (shells) or dropped (holes).</item>
/// <item>Douglas-Peucker keeps the farthest vertices, so simplified borders can look spiky at large
/// tolerances (NetTopologySuite's <c>NetTopologySuite.Coverage.CoverageSimplifier</c> uses
/// Visvalingam-Whyatt instead, at a higher cost).</item>
/// </list></para>
/// <para><b>Cost.</b> Time is linear in the number of vertices for interning, junctions and cutting,
/// O(n log n) typically for Douglas-Peucker and for the checks (monotone-chain noding of the simplified
/// arcs). Memory: flat arrays indexed by point, ring and arc ids (no object per input vertex), plus
/// NetTopologySuite objects for the simplified arcs and the output; about 100 bytes of working set per
/// input vertex at peak (measured on 2.2 million vertices: +230 MB, 290-360 MB allocated in all). The
/// work is single-threaded. All state is local to a call, so concurrent calls are safe (the input
/// geometries are only read).</para>
/// </remarks>
public static class CoverageSimplifier
{
    /// <summary>
    /// Simplifies every polygon of the coverage with Douglas-Peucker at <paramref name="tolerance"/> (in
    /// coordinate units: degrees for WGS84), such that a border shared by two neighbours is simplified
    /// identically on both sides. Returns one MultiPolygon per input, same order, SRID preserved; never
    /// null, and empty only for an empty input (a ring that would collapse keeps enough vertices, or falls
    /// back to its original; only input holes with fewer than 3 distinct vertices are dropped).
    /// </summary>
    /// <exception cref="ArgumentNullException">The list is null.</exception>
    /// <exception cref="ArgumentException">An element is null, not polygonal, or has a non-finite coordinate.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The tolerance is negative, infinite or NaN.</exception>
    public static MultiPolygon[] Simplify(IReadOnlyList<Geometry> coverage, double tolerance)
        => Simplify(coverage, tolerance, out _);

    /// <summary>Same as <see cref="Simplify(IReadOnlyList{Geometry}, double)"/>, also returning counters
    /// (for tests and diagnostics).</summary>
    internal static MultiPolygon[] Simplify(IReadOnlyList<Geometry> coverage, double tolerance, out SimplifyStats stats)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        if (!double.IsFinite(tolerance) || tolerance < 0)
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be a finite number >= 0.");
        var run = new Run(coverage, tolerance);
        var result = run.Execute();
        stats = run.Stats;
        return result;
    }

    /// <summary>Counters of one run.</summary>
    internal sealed record SimplifyStats
    {
        public int InputVertices { get; init; }
        public int OutputVertices { get; init; }
        public int DistinctPoints { get; init; }
        public int Junctions { get; init; }
        public int Arcs { get; init; }
        public int ClosedArcs { get; init; }
        /// <summary>Number of ranges (stretches between two kept vertices) refined by the repair pass.</summary>
        public int Refinements { get; init; }
        /// <summary>Vertices kept because of the repair pass (beyond plain Douglas-Peucker).</summary>
        public int VerticesRestored { get; init; }
        public int RepairIterations { get; init; }
    }

    /// <summary>Holds the state of one call; all arrays are indexed by small integer ids to avoid
    /// per-vertex objects.</summary>
    private sealed class Run
    {
        /// <summary>Refinement levels 0..3 use tolerance / 4^level; this level keeps every vertex.</summary>
        private const int OriginalLevel = 4;

        private readonly IReadOnlyList<Geometry> _coverage;
        private readonly double _tolerance;

        // Distinct points, by id.
        private double[] _px = [];
        private double[] _py = [];
        private int _pointCount;
        private int[] _table = [];   // open addressing: point id + 1, 0 = empty
        private int _tableShift;

        // Rings: their point ids (no closing point, no consecutive duplicates) live in _ringPts.
        private LinearRing[] _ringSource = [];
        private int[] _ringStart = [];
        private int[] _ringLength = [];
        private double[] _ringArea = [];      // signed (shoelace) area of the deduplicated ring
        private int[] _ringRefStart = [];     // arcs of ring r: _refs[_ringRefStart[r] .. + _ringRefCount[r]]
        private int[] _ringRefCount = [];
        private int[] _ringPts = [];
        private int _ringCount;

        // Polygons (elements of the inputs, in order).
        private readonly List<Polygon> _polygons = [];
        private readonly List<int> _polygonInput = [];
        private int[] _polygonFirstRing = [];

        // Arcs: point ids and squared Douglas-Peucker thresholds in canonical direction.
        private int[] _arcStart = [];
        private int[] _arcLength = [];
        private int _arcCount;
        private int[] _arcPts = [];
        private double[] _arcThreshold = [];
        private int _arcPtsCount;
        private int[] _refs = [];             // arcId * 2 + (1 if the ring traverses the arc backwards)
        private int _refCount;
        private byte[] _vertexLevel = [];     // refinement level of each arc vertex, see Repair
        private double[] _levelLimit = [];    // squared tolerance by level
        private int[][] _kept = [];           // kept vertices of each arc (indices into _arcPts)
        private Coordinate[][] _simplified = [];
        private Envelope[] _arcEnvelope = [];

        private int _junctionCount;
        private int _closedArcCount;
        private int _refinements;
        private int _iterations;

        public Run(IReadOnlyList<Geometry> coverage, double tolerance)
        {
            _coverage = coverage;
            _tolerance = tolerance;
        }

        public SimplifyStats Stats { get; private set; } = new();

        public MultiPolygon[] Execute()
        {
            Extract();
            FindJunctions();
            CutArcs();
            Repair();
            return BuildOutput();
        }

        // ---------------------------------------------------------------- 1. extraction and interning

        private void Extract()
        {
            long vertexBound = 0;
            for (int i = 0; i < _coverage.Count; i++)
            {
                var g = _coverage[i] ?? throw new ArgumentException($"coverage[{i}] is null.", "coverage");
                CollectPolygons(g, i);
            }
            int ringCount = 0;
            foreach (var p in _polygons)
            {
                ringCount += 1 + p.NumInteriorRings;
                vertexBound += p.NumPoints;
            }
            if (vertexBound > int.MaxValue / 4)
                throw new ArgumentException("The coverage has too many vertices.", "coverage");

            int capacity = (int)Math.Max(16, vertexBound);
            _ringPts = new int[capacity];
            _ringSource = new LinearRing[ringCount];
            _ringStart = new int[ringCount];
            _ringLength = new int[ringCount];
            _ringArea = new double[ringCount];
            _polygonFirstRing = new int[_polygons.Count];
            // In a coverage most vertices are shared by two rings, so about half are distinct; grown if not.
            _px = new double[Math.Max(16, capacity / 2)];
            _py = new double[_px.Length];
            // Table at most ~2/3 full even if every vertex were distinct.
            int bits = 4;
            while ((1L << bits) < vertexBound + vertexBound / 2) bits++;
            _table = new int[1 << bits];
            _tableShift = 64 - bits;

            int ptsCount = 0;
            for (int p = 0; p < _polygons.Count; p++)
            {
                var polygon = _polygons[p];
                _polygonFirstRing[p] = _ringCount;
                AddRing(polygon.Shell, ref ptsCount);
                for (int h = 0; h < polygon.NumInteriorRings; h++)
                    AddRing(polygon.Holes[h], ref ptsCount);
            }
        }

        private void CollectPolygons(Geometry g, int input)
        {
            switch (g)
            {
                case Polygon polygon:
                    if (!polygon.IsEmpty)
                    {
                        _polygons.Add(polygon);
                        _polygonInput.Add(input);
                    }
                    break;
                case GeometryCollection collection: // MultiPolygon, or a collection of polygons
                    for (int k = 0; k < collection.NumGeometries; k++)
                        CollectPolygons(collection.GetGeometryN(k), input);
                    break;
                default:
                    if (!g.IsEmpty)
                        throw new ArgumentException($"coverage[{input}] contains a {g.GeometryType}; a coverage is polygonal.", "coverage");
                    break;
            }
        }

        private void AddRing(LinearRing ring, ref int ptsCount)
        {
            int r = _ringCount++;
            var seq = ring.CoordinateSequence;
            int start = ptsCount, previous = -1;
            // The closing coordinate repeats the first one: skip it.
            for (int k = 0; k < seq.Count - 1; k++)
            {
                double x = seq.GetX(k), y = seq.GetY(k);
                if (!double.IsFinite(x) || !double.IsFinite(y))
                    throw new ArgumentException("The coverage has a non-finite coordinate.", "coverage");
                int id = Intern(x, y);
                if (id == previous) continue; // consecutive duplicates would make zero-length edges
                _ringPts[ptsCount++] = previous = id;
            }
            while (ptsCount - start > 1 && _ringPts[ptsCount - 1] == _ringPts[start]) ptsCount--;
            _ringSource[r] = ring;
            _ringStart[r] = start;
            _ringLength[r] = ptsCount - start;
            _ringArea[r] = SignedArea(start, ptsCount - start);
        }

        private int Intern(double x, double y)
        {
            // -0.0 == 0.0 but their bits differ: fold them so the bit hash agrees with equality.
            if (x == 0) x = 0;
            if (y == 0) y = 0;
            ulong h = (ulong)BitConverter.DoubleToInt64Bits(x) * 0x9E3779B97F4A7C15UL
                      ^ (ulong)BitConverter.DoubleToInt64Bits(y) * 0xC2B2AE3D27D4EB4FUL;
            h ^= h >> 29;
            h *= 0xBF58476D1CE4E5B9UL;
            int mask = _table.Length - 1;
            int slot = (int)(h >> _tableShift);
            while (true)
            {
                int entry = _table[slot];
                if (entry == 0) break;
                int id = entry - 1;
                if (_px[id] == x && _py[id] == y) return id;
                slot = (slot + 1) & mask;
            }
            if (_pointCount == _px.Length)
            {
                Array.Resize(ref _px, _px.Length * 2);
                Array.Resize(ref _py, _py.Length * 2);
            }
            int newId = _pointCount++;
            _px[newId] = x;
            _py[newId] = y;
            _table[slot] = newId + 1;
            return newId;
        }

        private double SignedArea(int start, int length)
        {
            if (length < 3) return 0;
            // Relative to the first vertex, to keep the products small.
            double x0 = _px[_ringPts[start]], y0 = _py[_ringPts[start]], sum = 0;
            double ax = 0, ay = 0;
            for (int k = 1; k <= length; k++)
            {
                int id = _ringPts[start + (k == length ? 0 : k)];
                double bx = _px[id] - x0, by = _py[id] - y0;
                sum += ax * by - bx * ay;
                ax = bx;
                ay = by;
            }
            return sum / 2;
        }

        private bool IsDegenerate(int ring) => _ringLength[ring] < 3;

        // ---------------------------------------------------------------- 2. junctions

        private bool[] _isJunction = [];

        private void FindJunctions()
        {
            var firstPrevious = new int[_pointCount];
            var firstNext = new int[_pointCount];
            var lastRing = new int[_pointCount];
            Array.Fill(lastRing, -1);
            _isJunction = new bool[_pointCount];
            for (int r = 0; r < _ringCount; r++)
            {
                if (IsDegenerate(r)) continue;
                int start = _ringStart[r], n = _ringLength[r];
                for (int k = 0; k < n; k++)
                {
                    int id = _ringPts[start + k];
                    int previous = _ringPts[start + (k == 0 ? n - 1 : k - 1)];
                    int next = _ringPts[start + (k == n - 1 ? 0 : k + 1)];
                    if (lastRing[id] == r)
                    {
                        // Seen twice in this ring (the ring touches itself): cutting here keeps every arc
                        // a simple path, which the canonical arc key relies on.
                        _isJunction[id] = true;
                        continue;
                    }
                    if (lastRing[id] < 0)
                    {
                        firstPrevious[id] = previous;
                        firstNext[id] = next;
                    }
                    else if (!(firstPrevious[id] == previous && firstNext[id] == next)
                             && !(firstPrevious[id] == next && firstNext[id] == previous))
                    {
                        _isJunction[id] = true;
                    }
                    lastRing[id] = r;
                }
            }
            for (int id = 0; id < _pointCount; id++)
                if (_isJunction[id]) _junctionCount++;
        }

        // ---------------------------------------------------------------- 3. arcs

        private void CutArcs()
        {
            int ptsBound = 0;
            for (int r = 0; r < _ringCount; r++) ptsBound += _ringLength[r] + 1;
            _ringRefStart = new int[_ringCount];
            _ringRefCount = new int[_ringCount];
            _refs = new int[Math.Max(16, ptsBound)];
            // Distinct arcs hold each point once, plus one more per arc (shared endpoints, closing point).
            _arcPts = new int[Math.Max(16, ptsBound)];
            _arcThreshold = new double[_arcPts.Length];
            _arcStart = new int[1024];
            _arcLength = new int[1024];
            var arcByKey = new Dictionary<long, int>(MixedKeyComparer.Instance);
            var junctions = new List<int>();
            var stack = new Stack<(int From, int To, double Parent)>();

            for (int r = 0; r < _ringCount; r++)
            {
                _ringRefStart[r] = _refCount;
                if (IsDegenerate(r)) continue;
                int start = _ringStart[r], n = _ringLength[r];
                junctions.Clear();
                for (int k = 0; k < n; k++)
                    if (_isJunction[_ringPts[start + k]]) junctions.Add(k);

                if (junctions.Count == 0)
                {
                    // Closed arc: start at the smallest vertex and walk towards its smaller neighbour, so
                    // that an island, or an enclave and the hole around it, give the same key and points.
                    int min = 0;
                    for (int k = 1; k < n; k++)
                        if (Compare(_ringPts[start + k], _ringPts[start + min]) < 0) min = k;
                    int next = _ringPts[start + (min + 1) % n], previous = _ringPts[start + (min + n - 1) % n];
                    bool forward = Compare(next, previous) < 0;
                    long key = Key(_ringPts[start + min], forward ? next : previous);
                    if (!arcByKey.TryGetValue(key, out int arc))
                    {
                        arc = NewArc(n + 1);
                        int s = _arcStart[arc];
                        for (int k = 0; k <= n; k++)
                            _arcPts[s + k] = _ringPts[start + (forward ? (min + k) % n : (min - k % n + n) % n)];
                        ComputeThresholds(s, n + 1, stack);
                        arcByKey.Add(key, arc);
                        _closedArcCount++;
                    }
                    AddRef(arc, !forward);
                }
                else
                {
                    for (int j = 0; j < junctions.Count; j++)
                    {
                        int a = junctions[j];
                        int b = j + 1 < junctions.Count ? junctions[j + 1] : junctions[0] + n;
                        int length = b - a + 1;
                        int first = _ringPts[start + a % n], last = _ringPts[start + b % n];
                        int cmp = Compare(first, last);
                        if (cmp == 0 && length > 2) // a loop from a junction back to itself
                            cmp = Compare(_ringPts[start + (a + 1) % n], _ringPts[start + (b - 1) % n]);
                        bool forward = cmp <= 0;
                        // Between two junctions every vertex has the same two neighbours in every ring, so
                        // the first two points (in canonical direction) identify the arc.
                        long key = forward
                            ? Key(first, _ringPts[start + (a + 1) % n])
                            : Key(last, _ringPts[start + (b - 1) % n]);
                        if (!arcByKey.TryGetValue(key, out int arc))
                        {
                            arc = NewArc(length);
                            int s = _arcStart[arc];
                            for (int k = 0; k < length; k++)
                                _arcPts[s + k] = _ringPts[start + (forward ? a + k : b - k) % n];
                            ComputeThresholds(s, length, stack);
                            arcByKey.Add(key, arc);
                        }
                        else if (_arcLength[arc] != length
                                 || _arcPts[_arcStart[arc] + length - 1] != (forward ? last : first))
                        {
                            // Cannot happen if the junction rule holds; fail loudly rather than mix up borders.
                            throw new InvalidOperationException("CoverageSimplifier: inconsistent arc (internal error).");
                        }
                        AddRef(arc, !forward);
                    }
                }
                _ringRefCount[r] = _refCount - _ringRefStart[r];
            }
        }

        private static long Key(int first, int second) => ((long)first << 32) | (uint)second;

        /// <summary>long.GetHashCode is <c>low ^ high</c>, which collides massively for keys made of two
        /// consecutive point ids (ids are handed out along the rings); mix the bits instead.</summary>
        private sealed class MixedKeyComparer : IEqualityComparer<long>
        {
            public static readonly MixedKeyComparer Instance = new();
            public bool Equals(long x, long y) => x == y;
            public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);
        }

        /// <summary>Lexicographic order on (x, y) of two point ids.</summary>
        private int Compare(int a, int b)
        {
            int c = _px[a].CompareTo(_px[b]);
            return c != 0 ? c : _py[a].CompareTo(_py[b]);
        }

        private int NewArc(int length)
        {
            if (_arcCount == _arcStart.Length)
            {
                Array.Resize(ref _arcStart, _arcCount * 2);
                Array.Resize(ref _arcLength, _arcCount * 2);
            }
            if (_arcPtsCount + length > _arcPts.Length)
            {
                int size = Math.Max(_arcPts.Length * 2, _arcPtsCount + length);
                Array.Resize(ref _arcPts, size);
                Array.Resize(ref _arcThreshold, size);
            }
            int arc = _arcCount++;
            _arcStart[arc] = _arcPtsCount;
            _arcLength[arc] = length;
            _arcPtsCount += length;
            return arc;
        }

        private void AddRef(int arc, bool reversed)
        {
            if (_refCount == _refs.Length) Array.Resize(ref _refs, _refs.Length * 2);
            _refs[_refCount++] = arc * 2 + (reversed ? 1 : 0);
        }

        /// <summary>
        /// Douglas-Peucker once for all tolerances: each interior vertex gets the squared distance at which
        /// it stops being kept, i.e. the minimum of its own split distance and its ancestors' (a vertex is
        /// kept at tolerance t iff its split distance and all its ancestors' exceed t). Hence the result at
        /// a smaller tolerance always contains the result at a larger one, which the repair relies on.
        /// Closed arcs and loops (first == last) always keep their farthest vertex from the start and the
        /// farthest vertex from that chord, so they never collapse below a triangle.
        /// </summary>
        private void ComputeThresholds(int s, int length, Stack<(int From, int To, double Parent)> stack)
        {
            int end = s + length - 1;
            _arcThreshold[s] = _arcThreshold[end] = double.PositiveInfinity;
            for (int k = s + 1; k < end; k++) _arcThreshold[k] = 0;
            if (length <= 2) return;
            stack.Clear();
            if (_arcPts[s] == _arcPts[end])
            {
                double x0 = _px[_arcPts[s]], y0 = _py[_arcPts[s]], best = -1;
                int k1 = s + 1;
                for (int k = s + 1; k < end; k++)
                {
                    double dx = _px[_arcPts[k]] - x0, dy = _py[_arcPts[k]] - y0, d = dx * dx + dy * dy;
                    if (d > best) { best = d; k1 = k; }
                }
                _arcThreshold[k1] = double.PositiveInfinity;
                var (ka, da) = Farthest(s, k1);
                var (kb, db) = Farthest(k1, end);
                int k2 = da >= db ? ka : kb;
                if (k2 >= 0) _arcThreshold[k2] = double.PositiveInfinity;
                stack.Push((s, k1, double.PositiveInfinity));
                stack.Push((k1, end, double.PositiveInfinity));
            }
            else
            {
                stack.Push((s, end, double.PositiveInfinity));
            }
            while (stack.Count > 0)
            {
                var (from, to, parent) = stack.Pop();
                if (to - from < 2) continue;
                var (k, d) = Farthest(from, to);
                double t = double.IsPositiveInfinity(_arcThreshold[k]) ? double.PositiveInfinity : Math.Min(d, parent);
                _arcThreshold[k] = t;
                stack.Push((from, k, t));
                stack.Push((k, to, t));
            }
        }

        /// <summary>Interior vertex of (from, to) farthest from the segment between them (first one on
        /// ties), with its squared distance; (-1, -1) if there is none.</summary>
        private (int Index, double Distance2) Farthest(int from, int to)
        {
            int index = -1;
            double best = -1;
            double ax = _px[_arcPts[from]], ay = _py[_arcPts[from]];
            double dx = _px[_arcPts[to]] - ax, dy = _py[_arcPts[to]] - ay;
            double len2 = dx * dx + dy * dy;
            for (int k = from + 1; k < to; k++)
            {
                double px = _px[_arcPts[k]] - ax, py = _py[_arcPts[k]] - ay, d;
                if (len2 == 0)
                {
                    d = px * px + py * py;
                }
                else
                {
                    double t = (px * dx + py * dy) / len2;
                    if (t <= 0) d = px * px + py * py;
                    else if (t >= 1) { double qx = px - dx, qy = py - dy; d = qx * qx + qy * qy; }
                    else { double c = px * dy - py * dx; d = c * c / len2; }
                }
                if (d > best) { best = d; index = k; }
            }
            return (index, best);
        }

        // ---------------------------------------------------------------- 4. checks and repair

        // Refinement is local: a "range" is the stretch of an arc between two consecutive kept vertices
        // (absolute indices i < j into _arcPts). Because the kept vertices always form a Douglas-Peucker
        // recursion tree, the vertices strictly inside a range all carry the same level, and raising that
        // level is exactly Douglas-Peucker at the finer tolerance on that range alone.

        private Coordinate[] SimplifiedCoordinates(int arc)
        {
            int s = _arcStart[arc], end = s + _arcLength[arc];
            int count = 0;
            for (int k = s; k < end; k++)
                if (_arcThreshold[k] > _levelLimit[_vertexLevel[k]]) count++;
            var kept = new int[count];
            var coordinates = new Coordinate[count];
            count = 0;
            for (int k = s; k < end; k++)
            {
                if (_arcThreshold[k] <= _levelLimit[_vertexLevel[k]]) continue;
                kept[count] = k;
                coordinates[count++] = new Coordinate(_px[_arcPts[k]], _py[_arcPts[k]]);
            }
            _kept[arc] = kept;
            return coordinates;
        }

        private static double Square(double v) => v * v;

        private void Repair()
        {
            // Squared tolerance per level; the original level keeps everything (thresholds are >= 0).
            _levelLimit = new double[OriginalLevel + 1];
            for (int level = 0; level < OriginalLevel; level++)
                _levelLimit[level] = Square(_tolerance / Math.Pow(4, level));
            _levelLimit[OriginalLevel] = -1;
            _vertexLevel = new byte[_arcPtsCount];
            _kept = new int[_arcCount][];
            _simplified = new Coordinate[_arcCount][];
            _arcEnvelope = new Envelope[_arcCount];
            var arcIndex = new STRtree<int>();
            for (int a = 0; a < _arcCount; a++)
            {
                _simplified[a] = SimplifiedCoordinates(a);
                double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
                for (int k = _arcStart[a]; k < _arcStart[a] + _arcLength[a]; k++)
                {
                    double x = _px[_arcPts[k]], y = _py[_arcPts[k]];
                    if (x < minX) minX = x;
                    if (x > maxX) maxX = x;
                    if (y < minY) minY = y;
                    if (y > maxY) maxY = y;
                }
                // The simplified arc is a subset of the original vertices, so this envelope holds both.
                _arcEnvelope[a] = new Envelope(minX, maxX, minY, maxY);
                arcIndex.Insert(_arcEnvelope[a], a);
            }
            arcIndex.Build();
            var (component, representatives) = Components();

            var refined = new HashSet<int>();   // ranges refined in this pass, by start index
            var changed = new List<int>();      // arcs with a refined range in this pass
            var isChanged = new bool[_arcCount];
            List<int>? candidates = null;       // arcs to check; null: all (first pass)
            while (true)
            {
                _iterations++;
                var crossing = new CrossingFinder();
                var strings = new List<ISegmentString>();
                if (candidates == null)
                {
                    for (int a = 0; a < _arcCount; a++)
                        strings.Add(new BasicSegmentString(_simplified[a], a));
                    new MCIndexNoder(crossing).ComputeNodes(strings);
                }
                else
                {
                    // Only pairs involving a changed arc can have changed: test those arcs against the arcs
                    // whose (original) envelopes they overlap, themselves included.
                    var inBase = new HashSet<int>();
                    var baseStrings = new List<ISegmentString>();
                    foreach (int a in candidates)
                    {
                        strings.Add(new BasicSegmentString(_simplified[a], a));
                        foreach (int b in arcIndex.Query(_arcEnvelope[a]))
                            if (inBase.Add(b)) baseStrings.Add(new BasicSegmentString(_simplified[b], b));
                    }
                    new MCIndexSegmentSetMutualIntersector(baseStrings).Process(strings, crossing);
                }
                foreach (var (arc, segment) in crossing.Segments)
                    RefineRange(arc, segment, refined, changed, isChanged);
                CheckSweeps(candidates, component, representatives, refined, changed, isChanged);
                CheckRings(refined, changed, isChanged);

                if (changed.Count == 0) break;
                foreach (int a in changed)
                {
                    isChanged[a] = false;
                    _simplified[a] = SimplifiedCoordinates(a);
                }
                candidates = [.. changed];
                changed.Clear();
                refined.Clear();
            }
        }

        /// <summary>Refines the range that simplified segment <paramref name="segment"/> of
        /// <paramref name="arc"/> stands for, once per pass. A segment that is an original edge has nothing
        /// to restore: the conflict is then in the input (or is resolved on the other arc).</summary>
        private void RefineRange(int arc, int segment, HashSet<int> refined, List<int> changed, bool[] isChanged)
        {
            var kept = _kept[arc];
            int i = kept[segment], j = kept[segment + 1];
            if (j - i < 2 || !refined.Add(i)) return;
            for (int k = i + 1; k < j; k++)
                if (_vertexLevel[k] < OriginalLevel) _vertexLevel[k]++;
            _refinements++;
            if (!isChanged[arc])
            {
                isChanged[arc] = true;
                changed.Add(arc);
            }
        }

        /// <summary>Connected groups of arcs (union-find on arc endpoints). The representative of a group is
        /// its root point, an arc endpoint, which is kept at every level.</summary>
        private (int[] Component, STRtree<int> Representatives) Components()
        {
            var parent = new int[_pointCount];
            for (int i = 0; i < parent.Length; i++) parent[i] = i;
            int Find(int i)
            {
                while (parent[i] != i)
                {
                    parent[i] = parent[parent[i]];
                    i = parent[i];
                }
                return i;
            }
            for (int a = 0; a < _arcCount; a++)
            {
                int ra = Find(_arcPts[_arcStart[a]]), rb = Find(_arcPts[_arcStart[a] + _arcLength[a] - 1]);
                if (ra != rb) parent[ra] = rb;
            }
            var component = new int[_arcCount];
            var index = new STRtree<int>();
            var seen = new HashSet<int>();
            for (int a = 0; a < _arcCount; a++)
            {
                int root = component[a] = Find(_arcPts[_arcStart[a]]);
                if (seen.Add(root)) index.Insert(new Envelope(_px[root], _px[root], _py[root], _py[root]), root);
            }
            index.Build();
            return (component, index);
        }

        /// <summary>
        /// A group of arcs that no simplified arc crosses can still end up on the wrong side of a simplified
        /// arc as a whole (a small island swallowed by a simplified coastline, a lake hole jumped over by its
        /// shell). Such a move puts the group's representative inside the region enclosed by a range of the
        /// arc and its chord, which a ray-crossing parity test on (original range + chord) detects.
        /// </summary>
        private void CheckSweeps(List<int>? candidates, int[] component, STRtree<int> representatives,
            HashSet<int> refined, List<int> changed, bool[] isChanged)
        {
            int count = candidates?.Count ?? _arcCount;
            for (int n = 0; n < count; n++)
            {
                int a = candidates?[n] ?? n;
                var kept = _kept[a];
                if (kept.Length == _arcLength[a]) continue; // nothing removed
                foreach (int p in representatives.Query(_arcEnvelope[a]))
                {
                    if (p == component[a]) continue;
                    double x = _px[p], y = _py[p];
                    for (int segment = 0; segment < kept.Length - 1; segment++)
                    {
                        int i = kept[segment], j = kept[segment + 1];
                        if (j - i < 2) continue;
                        bool inside = CrossesRay(_px[_arcPts[i]], _py[_arcPts[i]], _px[_arcPts[j]], _py[_arcPts[j]], x, y);
                        for (int k = i; k < j; k++)
                            if (CrossesRay(_px[_arcPts[k]], _py[_arcPts[k]], _px[_arcPts[k + 1]], _py[_arcPts[k + 1]], x, y))
                                inside = !inside;
                        if (inside) RefineRange(a, segment, refined, changed, isChanged);
                    }
                }
            }
        }

        /// <summary>Whether segment (x1,y1)-(x2,y2) crosses the ray from (x,y) towards +x (half-open in y,
        /// so that a closed curve is counted consistently).</summary>
        private static bool CrossesRay(double x1, double y1, double x2, double y2, double x, double y)
        {
            if ((y1 > y) == (y2 > y)) return false;
            double xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
            return xi > x;
        }

        /// <summary>Rings must keep at least 3 distinct vertices and the sign of their area; otherwise every
        /// range of every arc of the ring is refined. A backstop: a collapsing ring normally already shows up
        /// as overlapping segments in the crossing check, but a ring can in principle turn inside out
        /// without any crossing, and the check costs little.</summary>
        private void CheckRings(HashSet<int> refined, List<int> changed, bool[] isChanged)
        {
            for (int r = 0; r < _ringCount; r++)
            {
                if (IsDegenerate(r)) continue;
                int distinct = 0;
                double sum = 0, x0 = 0, y0 = 0, ax = 0, ay = 0;
                bool firstPoint = true;
                for (int j = 0; j < _ringRefCount[r]; j++)
                {
                    int reference = _refs[_ringRefStart[r] + j];
                    var c = _simplified[reference >> 1];
                    bool reversed = (reference & 1) != 0;
                    distinct += c.Length - 1;
                    // Each arc's first point is the previous arc's last, so skipping it visits every vertex of
                    // the ring once (the ring's own first vertex last).
                    for (int k = 1; k < c.Length; k++)
                    {
                        var q = c[reversed ? c.Length - 1 - k : k];
                        if (firstPoint)
                        {
                            x0 = q.X;
                            y0 = q.Y;
                            firstPoint = false;
                            continue;
                        }
                        double bx = q.X - x0, by = q.Y - y0;
                        sum += ax * by - bx * ay;
                        ax = bx;
                        ay = by;
                    }
                }
                double area = sum / 2;
                if (distinct >= 3 && area != 0 && Math.Sign(area) == Math.Sign(_ringArea[r])) continue;
                for (int j = 0; j < _ringRefCount[r]; j++)
                {
                    int arc = _refs[_ringRefStart[r] + j] >> 1;
                    for (int segment = 0; segment < _kept[arc].Length - 1; segment++)
                        RefineRange(arc, segment, refined, changed, isChanged);
                }
            }
        }

        /// <summary>Collects the simplified segments (arc, index) that intersect another one other than at a
        /// shared vertex: crossings, a vertex touching an edge, collinear overlaps.</summary>
        private sealed class CrossingFinder : ISegmentIntersector
        {
            private readonly RobustLineIntersector _intersector = new();
            public List<(int Arc, int Segment)> Segments { get; } = [];
            public bool IsDone => false;

            public void ProcessIntersections(ISegmentString e0, int segIndex0, ISegmentString e1, int segIndex1)
            {
                // Compare arcs, not strings: the mutual intersector sees a changed arc twice (as a candidate
                // and in the base set), and a segment must not be reported against itself.
                int arc0 = (int)e0.Context, arc1 = (int)e1.Context;
                if (arc0 == arc1 && segIndex0 == segIndex1) return;
                var c0 = e0.Coordinates;
                var c1 = e1.Coordinates;
                Coordinate p0 = c0[segIndex0], p1 = c0[segIndex0 + 1], q0 = c1[segIndex1], q1 = c1[segIndex1 + 1];
                _intersector.ComputeIntersection(p0, p1, q0, q1);
                if (!_intersector.HasIntersection) return;
                // Two distinct segments meet at most once unless collinear, so a single intersection with a
                // common endpoint is that endpoint: a junction, or consecutive segments of one arc (only
                // junctions are shared between arcs, and a vertex occurs once per arc except a closed arc's
                // start).
                if (_intersector.IntersectionNum == 1
                    && (p0.Equals2D(q0) || p0.Equals2D(q1) || p1.Equals2D(q0) || p1.Equals2D(q1)))
                    return;
                Segments.Add((arc0, segIndex0));
                Segments.Add((arc1, segIndex1));
            }
        }

        // ---------------------------------------------------------------- 5. output

        private MultiPolygon[] BuildOutput()
        {
            var polygonsByInput = new List<Polygon>?[_coverage.Count];
            int outputVertices = 0;
            for (int p = 0; p < _polygons.Count; p++)
            {
                var source = _polygons[p];
                var factory = source.Factory;
                int first = _polygonFirstRing[p];
                var shell = BuildRing(first, factory) ?? (LinearRing)source.Shell.Copy();
                var holes = new List<LinearRing>(source.NumInteriorRings);
                for (int h = 0; h < source.NumInteriorRings; h++)
                {
                    var hole = BuildRing(first + 1 + h, factory);
                    if (hole != null) holes.Add(hole);
                }
                outputVertices += shell.NumPoints;
                foreach (var hole in holes) outputVertices += hole.NumPoints;
                (polygonsByInput[_polygonInput[p]] ??= []).Add(factory.CreatePolygon(shell, [.. holes]));
            }
            var result = new MultiPolygon[_coverage.Count];
            for (int i = 0; i < result.Length; i++)
            {
                var input = _coverage[i];
                var multi = input.Factory.CreateMultiPolygon(polygonsByInput[i]?.ToArray() ?? []);
                multi.SRID = input.SRID;
                result[i] = multi;
            }
            Stats = new SimplifyStats
            {
                InputVertices = TotalRingVertices(),
                OutputVertices = outputVertices,
                DistinctPoints = _pointCount,
                Junctions = _junctionCount,
                Arcs = _arcCount,
                ClosedArcs = _closedArcCount,
                Refinements = _refinements,
                VerticesRestored = _kept.Sum(k => k.Length) - KeptAtLevelZero(),
                RepairIterations = _iterations,
            };
            return result;
        }

        private int KeptAtLevelZero()
        {
            int count = 0;
            for (int k = 0; k < _arcPtsCount; k++)
                if (_arcThreshold[k] > _levelLimit[0]) count++;
            return count;
        }

        private int TotalRingVertices()
        {
            int total = 0;
            for (int r = 0; r < _ringCount; r++) total += _ringSource[r].NumPoints;
            return total;
        }

        /// <summary>The simplified ring, or null if the input ring has fewer than 3 distinct vertices.</summary>
        private LinearRing? BuildRing(int r, GeometryFactory factory)
        {
            if (IsDegenerate(r)) return null;
            int count = 1;
            for (int j = 0; j < _ringRefCount[r]; j++)
                count += _simplified[_refs[_ringRefStart[r] + j] >> 1].Length - 1;
            var coordinates = new Coordinate[count];
            int n = 0;
            for (int j = 0; j < _ringRefCount[r]; j++)
            {
                int reference = _refs[_ringRefStart[r] + j];
                var c = _simplified[reference >> 1];
                bool reversed = (reference & 1) != 0;
                // Arcs chain end to start: skip each arc's first point (the previous arc's last), except the
                // ring's first point, which is written once more at the end to close the ring.
                for (int k = j == 0 ? 0 : 1; k < c.Length; k++)
                {
                    var q = c[reversed ? c.Length - 1 - k : k];
                    coordinates[n++] = new Coordinate(q.X, q.Y); // no Coordinate shared between outputs
                }
            }
            return n < 4 ? null : factory.CreateLinearRing(coordinates);
        }
    }
}
