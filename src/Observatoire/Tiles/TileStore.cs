using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Observatoire.Map;

namespace Observatoire.Tiles;

/// <summary>
/// Pre-renders the default view's vector tiles (no filter, today's status) into <c>map_tile</c>
/// once per data release, the way a tile server seeds its cache: the public map asks for these
/// tiles far more than for any other, they only change when the data does, and reading one by
/// primary key costs a fraction of a millisecond where rendering it costs 2–20 ms of PostGIS
/// (docs/benchmarks.md). Run after every import (<see cref="Import.BundledData"/>, the CLI verbs).
///
/// Tiles: for each layer, every tile from its minimum zoom to <see cref="MapOptions.TileStoreMaxZoom"/>
/// whose buffered envelope meets a member's bounding box. No other tile of those zooms can hold a
/// feature, so once the seed is complete the endpoint answers them 204 without rendering. Rendering uses <see cref="TileEndpoints.RenderSql"/>, so a stored tile
/// has the bytes the endpoint renders. All workers read one exported snapshot, so the stored tiles
/// and the release id they are filed under come from the same state of the data even if an import
/// commits meanwhile; the release's tiles count once its <c>map_tile_seed</c> row exists. A release that
/// changes only statuses redraws the tiles meeting a commune whose colour changed and copies the others
/// from the previous release (<c>map_tile_status</c> keeps what each commune was drawn with; migration 017).
/// </summary>
public static class TileStore
{
    // Only the layer the map draws by default: the EPCI layer is switched on by few visitors, and
    // seeding it too would double the seed's time (15 s more per import, measured); its tiles are
    // rendered on request and kept by the output cache.
    static readonly (string Layer, string Types)[] Layers =
    [
        ("communes", "'COM'"),
    ];

    /// <summary>Whether the default-view tiles of this layer are stored (else they are always rendered).</summary>
    public static bool Stores(string layer) => Layers.Any(l => l.Layer == layer);

    public static async Task SeedAsync(NpgsqlDataSource db, MapOptions options, TextWriter log, CancellationToken ct = default)
    {
        await using var lead = await db.OpenConnectionAsync(ct);
        await using var tx = await lead.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var snapshot = (string)(await Scalar(lead, tx, "select pg_export_snapshot()", ct))!;
        var release = (int)(await Scalar(lead, tx, "select coalesce(max(id), 0) from data_release", ct))!;
        if (release == 0) return;   // nothing imported yet

        foreach (var (layer, types) in Layers)
        {
            var minZoom = layer == "communes" ? options.CommuneTileMinZoom : options.EpciTileMinZoom;
            var maxZoom = options.TileStoreMaxZoom;
            if (minZoom > maxZoom) continue;
            if (await Scalar(lead, tx, $"select 1 from map_tile_seed where release = {release} and layer = '{layer}'", ct) is not null)
                continue;

            var watch = Stopwatch.StartNew();
            var where = $"c.type in ({types})";
            var tiles = await TileListAsync(lead, tx, where, minZoom, maxZoom, ct);
            // Rows left by an interrupted seed of this release are replaced (autonomously: the lead
            // transaction must keep its snapshot).
            await using (var clear = db.CreateCommand($"delete from map_tile where release = {release} and layer = '{layer}'"))
                await clear.ExecuteNonQueryAsync(ct);

            // The previous release's tiles in which no commune changed colour are copied: same basis (the
            // rendering, the zooms, the cap, the reference data), so only the statuses can differ.
            var basis = Basis(layer, minZoom, maxZoom, options.TileFeatureCap, await Scalar(lead, tx,
                "select coalesce(max(id), 0) || ' ' || postgis_lib_version() from data_release where kind = 'reference'", ct));
            var previous = await Scalar(lead, tx, $"select max(release) from map_tile_seed where layer = '{layer}' and release < {release} and basis = '{basis}'", ct) as int?;
            var reused = 0;
            if (previous is { } prev)
            {
                var status = TileEndpoints.StatusSql("c.is_open");
                var changed = await TileListAsync(lead, tx, $"""
                    {where} and c.id in (
                        select coalesce(n.id, o.id) from (select c.id, {status} as status from collectivite c where {where}) n
                          full join (select collectivite_id as id, status from map_tile_status where release = {prev} and layer = '{layer}') o on o.id = n.id
                         where n.status is distinct from o.status)
                    """, minZoom, maxZoom, ct);
                var dirty = changed.ToHashSet();
                var kept = tiles.Where(t => !dirty.Contains(t)).ToList();
                await using var copy = db.CreateCommand($"""
                    insert into map_tile (release, layer, z, x, y, mvt)
                    select {release}, t.layer, t.z, t.x, t.y, t.mvt
                      from unnest(@z, @x, @y) k(z, x, y)
                      join map_tile t on t.release = {prev} and t.layer = '{layer}' and t.z = k.z and t.x = k.x and t.y = k.y
                    """);
                copy.Parameters.Add(new NpgsqlParameter<short[]>("z", kept.Select(t => (short)t.Item1).ToArray()));
                copy.Parameters.Add(new NpgsqlParameter<int[]>("x", kept.Select(t => t.Item2).ToArray()));
                copy.Parameters.Add(new NpgsqlParameter<int[]>("y", kept.Select(t => t.Item3).ToArray()));
                reused = await copy.ExecuteNonQueryAsync(ct);
                if (reused == kept.Count) tiles = tiles.Where(dirty.Contains).ToList();
                else
                {
                    // A tile missing from the previous release (never with the same basis): draw them all.
                    await using var undo = db.CreateCommand($"delete from map_tile where release = {release} and layer = '{layer}'");
                    await undo.ExecuteNonQueryAsync(ct);
                    reused = 0;
                }
            }
            await using (var statuses = new NpgsqlCommand($"""
                insert into map_tile_status (release, layer, collectivite_id, status)
                select {release}, '{layer}', c.id, {TileEndpoints.StatusSql("c.is_open")} from collectivite c where {where}
                on conflict do nothing
                """, lead, tx))
                await statuses.ExecuteNonQueryAsync(ct);

            var queue = new ConcurrentQueue<(int Z, int X, int Y)>(tiles);
            var done = 0;
            var nextReport = tiles.Count / 4;
            var workers = Enumerable.Range(0, Math.Max(1, Environment.ProcessorCount)).Select(async _ =>
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                await using var wtx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
                await using (var set = new NpgsqlCommand($"set transaction snapshot '{snapshot}'", conn, wtx))
                    await set.ExecuteNonQueryAsync(ct);
                // The store can always be rebuilt from the data: no need to wait for each commit's fsync.
                await using (var set = new NpgsqlCommand("set local synchronous_commit = off", conn, wtx))
                    await set.ExecuteNonQueryAsync(ct);
                while (queue.TryDequeue(out var t))
                {
                    await using var cmd = new NpgsqlCommand { Connection = conn, Transaction = wtx };
                    var render = TileEndpoints.RenderSql(layer, t.Z, t.X, t.Y, options.TileFeatureCap,
                        MapFilters.Default, cmd);
                    cmd.Parameters.Add(new NpgsqlParameter<int>("release", release));
                    cmd.CommandText = $"""
                        insert into map_tile (release, layer, z, x, y, mvt)
                        select @release, @layer, @z, @x, @y, coalesce(({render}), ''::bytea)
                        """;
                    await cmd.ExecuteNonQueryAsync(ct);
                    var n = Interlocked.Increment(ref done);
                    if (n == nextReport || n == tiles.Count / 2 || n == tiles.Count * 3 / 4)
                        log.WriteLine($"  tuiles {layer} : {n}/{tiles.Count}…");
                }
                await wtx.CommitAsync(ct);
            }).ToList();
            await Task.WhenAll(workers);

            await using (var mark = db.CreateCommand(
                $"insert into map_tile_seed (release, layer, tiles, seconds, basis) values ({release}, '{layer}', {tiles.Count + reused}, {watch.Elapsed.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}, '{basis}')"))
                await mark.ExecuteNonQueryAsync(ct);
            log.WriteLine($"Tuiles pré-calculées ({layer}, zooms {minZoom}–{maxZoom}) : {tiles.Count + reused} en {watch.Elapsed.TotalSeconds:0.0} s"
                + (previous is null ? "." : $" ({tiles.Count} dessinées, {reused} reprises de la version {previous} : aucune de leurs communes n'a changé de statut)."));
        }
        await tx.CommitAsync(ct);

        // Older releases are no longer served (the endpoint reads the current release's tiles).
        await using var prune = db.CreateCommand(
            $"delete from map_tile where release < {release}; delete from map_tile_seed where release < {release}; delete from map_tile_status where release < {release}");
        await prune.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Tiles z ∈ [min, max] meeting the bounding box of a collectivité of these types, the box widened
    /// by the buffer a tile keeps around itself (<see cref="TileEndpoints.Buffer"/>, plus 1 m against rounding at tile edges); costliest (lowest zoom) first so the workers
    /// finish together.
    /// </summary>
    static async Task<List<(int, int, int)>> TileListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string where,
        int minZoom, int maxZoom, CancellationToken ct)
    {
        // Web Mercator: the world is 2·20037508.34 m wide; tile (x, y) at zoom z spans 40075016.69/2^z m.
        // Each commune's bounds once, in double precision (numeric division made this 2 s of every seed),
        // then the distinct tile ranges per zoom (a few thousand) expanded to tiles.
        await using var cmd = new NpgsqlCommand($"""
            with b as materialized (
                select ST_XMin(e) + 20037508.342789244::float8 as x0, ST_XMax(e) + 20037508.342789244::float8 as x1,
                       20037508.342789244::float8 - ST_YMax(e) as y0, 20037508.342789244::float8 - ST_YMin(e) as y1
                  from (select ST_Transform(ST_Envelope(g.geom), 3857) as e
                          from collectivite c join collectivite_geometry g on g.collectivite_id = c.id
                         where {where}) t),
            z as (select z, size, size * {TileEndpoints.Buffer}.0::float8 / {TileEndpoints.Extent} + 1 as pad
                    from generate_series(@min, @max) z, lateral (select 40075016.68557849::float8 / (1 << z) as size) s),
            r as (select distinct z.z,
                         greatest(0, floor((x0 - pad) / size)::int) as x0, least((1 << z.z) - 1, floor((x1 + pad) / size)::int) as x1,
                         greatest(0, floor((y0 - pad) / size)::int) as y0, least((1 << z.z) - 1, floor((y1 + pad) / size)::int) as y1
                    from b cross join z)
            select distinct r.z, x, y
              from r, generate_series(r.x0, r.x1) x, generate_series(r.y0, r.y1) y
             order by r.z, x, y
            """, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<int>("min", minZoom));
        cmd.Parameters.Add(new NpgsqlParameter<int>("max", maxZoom));
        var list = new List<(int, int, int)>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct)) list.Add((rd.GetInt32(0), rd.GetInt32(1), rd.GetInt32(2)));
        return list;
    }

    /// <summary>
    /// What a release's tiles depend on besides the statuses (the rendering SQL of each zoom, the zooms, the
    /// feature cap, the reference release and PostGIS's version), as a hash: a seed reuses only tiles of the same basis.
    /// </summary>
    static string Basis(string layer, int minZoom, int maxZoom, int cap, object? referenceAndPostgis)
    {
        var text = new System.Text.StringBuilder($"{layer}|{minZoom}|{maxZoom}|{cap}|{referenceAndPostgis}");
        for (var z = minZoom; z <= maxZoom; z++)
        {
            using var probe = new NpgsqlCommand();   // only for the statement's text
            text.Append('|').Append(TileEndpoints.RenderSql(layer, z, 0, 0, cap, MapFilters.Default, probe));
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    static async Task<object?> Scalar(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return await cmd.ExecuteScalarAsync(ct);
    }
}
