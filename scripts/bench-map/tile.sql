-- The statement /tiles/communes/{z}/{x}/{y}.pbf runs (no filter), with :col the zoom band's column
-- (geom_mid for z7–9, geom for z ≥ 10), cap 6000, and :names ', name' from z9 ('' below).
-- bench-map.sh checks the bytes against the endpoint.
with b as (
    select ST_TileEnvelope(:z, :x, :y) as env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326) as sel),
sel as (
    select c.id, c.code, c.name, c.type, c.population,
           case when c.is_open then 'open' when c.is_obliged then 'obliged' else 'other' end as status,
           g.:col as geom
      from collectivite c
      join collectivite_geometry g on g.collectivite_id = c.id
      cross join b
     where c.type = 'COM' and g.:col && b.sel
     order by c.population desc nulls last, c.id
     limit 6000),
mvt as (
    select code:names, population, status,
           ST_AsMVTGeom(ST_Transform(geom, 3857), b.env, 4096, 64, true) as geom
      from sel cross join b)
select ST_AsMVT(mvt, 'communes', 4096, 'geom') as tile from mvt where geom is not null
