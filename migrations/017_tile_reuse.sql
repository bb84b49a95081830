-- A new release re-renders only the default tiles that can have changed. A status import changes the
-- colour of a few hundred communes, yet the seed re-rendered all 1,425 default tiles (10 s of the 15 s
-- import command in scripts/bench-history.sh). Each seed now keeps the status every commune was drawn
-- with and what else the drawing depended on (its basis: the rendering SQL, the zooms, the feature cap,
-- the reference release); the next seed of the same basis copies every tile in which no commune changed
-- colour (Tiles/TileStore.cs).
alter table map_tile_seed add column basis text;
create table map_tile_status (
    release          integer not null,
    layer            text    not null,
    collectivite_id  text    not null,
    status           text    not null,
    primary key (release, layer, collectivite_id)
);
