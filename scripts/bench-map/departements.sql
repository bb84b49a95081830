-- The statement /api/geo/departements?zoom=5 runs (no filter): geom_low's GeoJSON text (3 decimals, written at import), cap 5000.
-- bench-map.sh checks that its output is byte for byte the endpoint's body before timing it.
with m as (select c.departement_code as k, c.is_open as is_open, c.is_obliged, c.dataset_count as datasets from collectivite c
            where c.departement_code is not null and c.type not in ('REG', 'COLOM')),
agg as (
    select k, count(*) as n, count(*) filter (where is_open) as open, count(*) filter (where is_obliged) as obliged,
           count(*) filter (where is_open and is_obliged) as obliged_open, sum(datasets) as datasets
      from m group by k),
sel as (
    select f.id, f.code, f.name, f.type, f.population, f.population_band, f.atd_count, g.geojson_low as geojson,
           coalesce(a.n, 0) as n, coalesce(a.open, 0) as open, coalesce(a.obliged, 0) as obliged,
           coalesce(a.obliged_open, 0) as obliged_open, a.datasets
      from collectivite f
      join collectivite_geometry g on g.collectivite_id = f.id
      left join agg a on a.k = f.code
     where f.type = 'DEP'
     limit 5000 + 1)
select (select count(*) from sel) as n,
       '{"type":"FeatureCollection","features":[' || coalesce(string_agg(
           '{"type":"Feature","id":' || to_json(sel.id)::text
           || ',"geometry":' || sel.geojson
           || ',"properties":' || (select row_to_json(p) from (select
                sel.code, sel.name, sel.type, sel.population, sel.population_band as band,
                sel.n as count, sel.open, sel.obliged, sel.obliged_open as "obligedOpen",
                case when sel.obliged > 0 then round(sel.obliged_open::numeric / sel.obliged, 4) end as rate,
                sel.datasets, sel.atd_count as "atdCount") p)::text || '}',
           ',' order by sel.code), '') || ']}' as doc
  from sel where (select count(*) from sel) <= 5000
