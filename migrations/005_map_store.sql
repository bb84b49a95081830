-- Map speed (issue #5).
--
-- 1. Pre-rendered vector tiles of the default view (no filter, today's status). They change only
--    when the data changes, so they are rendered once per data release, after each import
--    (Tiles/TileStore.cs), and served by primary key; filtered views, past dates and tiles outside
--    the stored zooms are still rendered by PostGIS on request. Rows of an older release are
--    deleted once the new release's tiles are complete; a server that still reads the old release
--    id simply misses and renders.
create table map_tile (
    release  integer  not null,
    layer    text     not null check (layer in ('communes', 'epci')),
    z        smallint not null,
    x        integer  not null,
    y        integer  not null,
    mvt      bytea    not null,            -- empty: no feature in this tile (answered 204)
    primary key (release, layer, z, x, y)
);
-- MVT bytes are already dense; storing them uncompressed makes a read a plain copy.
alter table map_tile alter column mvt set storage external;

-- One row per (release, layer) once every tile of the layer is stored: the seed is skipped when
-- present, resumed (rendering only the missing tiles) when not.
create table map_tile_seed (
    release     integer     not null,
    layer       text        not null,
    tiles       integer     not null,
    seconds     real        not null,
    finished_at timestamptz not null default now(),
    primary key (release, layer)
);

-- 2. The area choropleths count the collectivités of each région / département (36,000 rows):
--    covering indexes let PostgreSQL read those few columns from the index (index-only scan, the
--    visibility map is set by the VACUUM after each import) instead of the 25 MB table.
create index collectivite_departement_cover_idx on collectivite (departement_code)
    include (type, is_open, is_obliged, dataset_count, population_band, atd_count);
create index collectivite_region_cover_idx on collectivite (region_code)
    include (type, is_open, is_obliged, dataset_count, population_band, atd_count);

-- 3. The GeoJSON text of the two simplified bands, written once when a geometry is stored rather
--    than on every request (RFC 7946 ring order; 3 decimals for geom_low, which the import snaps to
--    that grid, 5 (~1 m) for geom_mid: ZoomBands.LowDecimals and GeoEndpoints). Writing it was half
--    the cost of the national départements answer.
alter table collectivite_geometry
    add column geojson_low text generated always as (ST_AsGeoJSON(ST_ForcePolygonCCW(geom_low), 3)) stored,
    add column geojson_mid text generated always as (ST_AsGeoJSON(ST_ForcePolygonCCW(geom_mid), 5)) stored;
-- Read whole on every answer: uncompressed, a read is a copy (pglz decompression cost more than it saved).
alter table collectivite_geometry alter column geojson_low set storage external, alter column geojson_mid set storage external;
