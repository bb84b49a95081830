-- Narrow, geometry-free views read by the OData API (issue #4, src/Observatoire/OData/).
-- The OData entity sets map to these views rather than to the tables so that:
--  * no geometry column is ever selected (the views have none);
--  * analysts get 0/1 integer columns to sum and average ($apply cannot average a Boolean);
--  * every summable column is bigint: an int4 sum overflowing in PostgreSQL arrives at the client
--    as HTTP 200 with a truncated body, because the response has already started;
--  * navigation properties join on plain ids (epci_id, departement_id, region_id) computed here.
-- They read the columns of migrations/002_status.sql only, so the status import fills them without change.

create view odata_collectivite as
select c.id,
       c.siren::text                                   as siren,
       c.code, c.type, c.name,
       c.population::bigint                            as population,
       c.population_band,
       c.departement_code, c.region_code,
       c.epci_siren::text                              as epci_siren,
       c.ept_siren::text                               as ept_siren,
       c.zone, c.is_overseas_collectivity,
       c.member_count::bigint                          as member_count,
       c.is_obliged, c.is_open, c.first_seen_open,
       c.dataset_count::bigint                         as dataset_count,
       c.last_observed_on,
       c.atd_count::bigint                             as atd_count,
       c.is_open::int::bigint                          as open_flag,
       c.is_obliged::int::bigint                       as obliged_flag,
       (c.is_open and c.is_obliged)::int::bigint       as obliged_open_flag,
       c.search_name,
       -- Ids of the parents: the reference import builds ids as TYPE-CODE (EPCI-<siren>, DEP-<code>, REG-<code>).
       case when c.epci_siren is not null and c.type not in ('CC', 'CA', 'CU', 'MET')
            then 'EPCI-' || c.epci_siren end            as epci_id,
       case when c.departement_code is not null and c.type not in ('DEP', 'REG', 'COLOM')
            then 'DEP-' || c.departement_code end       as departement_id,
       case when c.region_code is not null and c.type <> 'REG'
            then 'REG-' || c.region_code end            as region_id
  from collectivite c;

create view odata_observation as
select o.id, o.subject_key, o.collectivite_id, o.associated_actor_id, o.observed_on, o.source, o.is_listed,
       o.datasets_local::bigint     as datasets_local,
       o.datasets_datagouv::bigint  as datasets_datagouv,
       o.platforms, o.url, o.match_method, o.match_evidence
  from observation o;

create view odata_platform as
select p.id, p.name, p.url, p.type, p.collaboration_mode, p.technology, p.hosted_sirens,
       cardinality(p.hosted_sirens)::bigint as hosted_count, p.source
  from platform p;

create view odata_associated_actor as
select a.id, a.siren::text as siren, a.name, a.type, a.departement_code,
       st_y(a.location) as latitude, st_x(a.location) as longitude
  from associated_actor a;

create view odata_milestone as
select m.observed_on,
       m.open_count::bigint     as open_count,
       m.obliged_total::bigint  as obliged_total,
       m.obliged_open::bigint   as obliged_open,
       m.note, m.source
  from milestone m;

create view odata_atd as
select a.id, a.name, a.kind, a.scale, a.siren::text as siren, a.perimeter_type, a.perimeter_codes, a.seasons,
       a.source, a.note, a.collectivite_id,
       coalesce(k.covered, 0)         as covered_count,
       coalesce(k.obliged, 0)         as covered_obliged_count,
       coalesce(k.obliged_open, 0)    as covered_obliged_open_count
  from atd a
  left join lateral (
       select count(*) as covered,
              count(*) filter (where c.is_obliged) as obliged,
              count(*) filter (where c.is_obliged and c.is_open) as obliged_open
         from atd_coverage v join collectivite c on c.id = v.collectivite_id
        where v.atd_id = a.id) k on true;

-- Every collectivité with its status on date d (status_on of migration 002 decides), in the shape of
-- odata_collectivite's status columns. Behind the OData function StatusOn(Date=…).
create function odata_status_on(d date)
returns table (id text, date date, siren text, code text, type text, name text, population bigint,
               population_band text, departement_code text, region_code text, epci_siren text,
               is_overseas_collectivity boolean, is_obliged boolean, is_open boolean, first_seen_open date,
               dataset_count bigint, open_flag bigint, obliged_flag bigint, obliged_open_flag bigint)
language sql stable parallel safe as $$
    select c.id, d, c.siren, c.code, c.type, c.name, c.population, c.population_band, c.departement_code,
           c.region_code, c.epci_siren, c.is_overseas_collectivity, c.is_obliged,
           s.is_open, s.first_seen_open, s.dataset_count::bigint,
           s.is_open::int::bigint, c.obliged_flag, (s.is_open and c.is_obliged)::int::bigint
      from odata_collectivite c
      join status_on(d) s on s.collectivite_id = c.id
$$;

-- Analysts page through a région's or a département's collectivités in key order (server paging
-- sorts by Id last): these indexes give that order without sorting the whole set.
create index collectivite_region_id_idx on collectivite (region_code, id);
create index collectivite_departement_id_idx on collectivite (departement_code, id);
