-- Issue #11: every business rule in one home, which every surface (API, OData, map, reports,
-- imports) calls; figures counted by legal body; the evidence a match needs.

-- 1. Type families. The lists the code used to type out in every query.
create or replace function collectivite_types() returns text[]
language sql immutable parallel safe as $$ select '{COM,CC,CA,CU,MET,EPT,DEP,REG}'::text[] $$;
comment on function collectivite_types() is
  'The collectivités proper (the legal obligation and the national counts concern them); COLOM and the associated actors are outside.';
-- EPCI à fiscalité propre (the Métropole de Lyon, a collectivité à statut particulier, is typed MET with them).
create or replace function epci_types() returns text[]
language sql immutable parallel safe as $$ select '{CC,CA,CU,MET}'::text[] $$;
-- Groupements of communes drawn on the map's EPCI layer: the EPCI and the Grand Paris EPT.
create or replace function groupement_types() returns text[]
language sql immutable parallel safe as $$ select '{CC,CA,CU,MET,EPT}'::text[] $$;

-- 2. Population band (strate): the eight bands nested in the DGF bands (CGCT L.2334-3).
create or replace function population_band(p integer) returns text
language sql immutable parallel safe as $$
    select case when p is null then null
                when p >= 100000 then '>=100000' when p >= 50000 then '50000-99999'
                when p >= 20000 then '20000-49999' when p >= 10000 then '10000-19999'
                when p >= 3500 then '3500-9999' when p >= 2000 then '2000-3499'
                when p >= 500 then '500-1999' else '<500' end
$$;

-- 3. Legal bodies. The COG lists a few collectivités twice (as a département and a région, or a
-- commune and a département) although each is ONE legal body since its reform; its other entries are
-- kept (the map and the 101/18 counts need them) but are not counted again in the obligation.
create table legal_body_merge (
    collectivite_id  text primary key,   -- the entry that is not a legal body of its own
    body_id          text not null,      -- the entry that carries the legal body
    body_name        text not null,
    since            date not null,
    reason           text not null
);
insert into legal_body_merge values
  ('DEP-75',  'COM-75056', 'Ville de Paris', '2019-01-01',
   'la commune et le département de Paris forment une seule collectivité, la Ville de Paris, depuis le 1er janvier 2019 (loi du 28 février 2017)'),
  ('DEP-2A',  'REG-94', 'Collectivité de Corse', '2018-01-01',
   'la Collectivité de Corse a remplacé la collectivité territoriale et les deux départements le 1er janvier 2018 (loi NOTRe, art. 30)'),
  ('DEP-2B',  'REG-94', 'Collectivité de Corse', '2018-01-01',
   'la Collectivité de Corse a remplacé la collectivité territoriale et les deux départements le 1er janvier 2018 (loi NOTRe, art. 30)'),
  ('DEP-972', 'REG-02', 'Collectivité territoriale de Martinique', '2015-12-18',
   'la Collectivité territoriale de Martinique exerce les compétences du département et de la région depuis décembre 2015'),
  ('DEP-973', 'REG-03', 'Collectivité territoriale de Guyane', '2015-12-18',
   'la Collectivité territoriale de Guyane exerce les compétences du département et de la région depuis décembre 2015'),
  ('REG-06',  'DEP-976', 'Département de Mayotte', '2011-03-31',
   'le Département de Mayotte est une collectivité unique qui exerce aussi les compétences d''une région'),
  ('DEP-68',  'DEP-67', 'Collectivité européenne d''Alsace', '2021-01-01',
   'la Collectivité européenne d''Alsace a remplacé les départements du Bas-Rhin et du Haut-Rhin le 1er janvier 2021');

alter table collectivite add column legal_body_id text;   -- the entry carrying this collectivité's legal body (itself for nearly all)

-- French thousands (no-break space), whatever the server's locale: 54 917.
create or replace function fr_int(n bigint) returns text
language sql immutable parallel safe as $$ select regexp_replace(n::text, '(\d)(?=(\d{3})+$)', E'\\1\u00a0', 'g') $$;

-- 4. The legal obligation (loi pour une République numérique, CRPA L.312-1-1): 3,500 inhabitants or
-- more AND 50 agents (FTE) or more. Staff is rarely known: unknown staff counts as obliged, so the
-- obliged total is an upper bound. Not obliged here: an entry that is not a legal body of its own
-- (section 3), and the collectivités d'outre-mer and their communes (flagged is_overseas_collectivity:
-- their statutes, art. 74 and 77 of the Constitution, decide which national laws apply, which the
-- observatoire cannot establish; they are tracked and shown, outside the national counts).
-- Returns the decision and its explanation in French (the card of a collectivité shows it).
create or replace function obligation(type text, population integer, staff integer, overseas boolean, merged_into text, body_name text,
                                      out obliged boolean, out reason text)
language sql immutable parallel safe as $$
    select case
             when not (type = any(collectivite_types())) or overseas or merged_into is not null then false
             else coalesce(population, 0) >= 3500 and (staff is null or staff >= 50) end,
           case
             when overseas then 'Collectivité d''outre-mer (ou l''une de ses communes) : son statut décide des lois nationales qui s''y appliquent ; l''observatoire la suit sans la compter parmi les collectivités obligées.'
             when not (type = any(collectivite_types())) then 'Pas une collectivité soumise à l''obligation.'
             when merged_into is not null then format('Comptée une seule fois, avec %s (même personne morale).', body_name)
             when population is null then 'Non obligée : population inconnue (territoire inhabité).'
             when population < 3500 then format('Non obligée : %s habitants, sous le seuil de 3 500 habitants.', fr_int(population))
             when staff is not null and staff < 50 then format('Non obligée : %s agents, sous le seuil de 50 agents.', staff)
             when staff is not null then format('Obligée : %s habitants (seuil 3 500) et %s agents (seuil 50).', fr_int(population), staff)
             else format('Obligée : %s habitants (seuil 3 500) ; l''effectif n''est pas connu (seuil 50 agents) : l''observatoire la compte obligée, c''est une borne haute.', fr_int(population)) end
$$;

-- Applies sections 3 and 4 to every row; called by this migration and by every reference import.
create or replace function refresh_obligation() returns void
language sql as $$
    update collectivite c set legal_body_id = v.body_id, is_obliged = v.obliged
      from (select x.id, coalesce(m.body_id, x.id) as body_id,
                   (obligation(x.type, x.population, x.staff, x.is_overseas_collectivity, m.body_id, m.body_name)).obliged
              from collectivite x left join legal_body_merge m on m.collectivite_id = x.id) v
     where v.id = c.id and (c.legal_body_id, c.is_obliged) is distinct from (v.body_id, v.obliged);
$$;
select refresh_obligation();

-- 5. The national scope: what "France" counts (indicators, progress, reports, map areas). The same
-- meaning as OData's IsOverseasCollectivity eq false, restricted to the collectivités proper.
create or replace function counts_nationally(type text, overseas boolean) returns boolean
language sql immutable parallel safe as $$ select type = any(collectivite_types()) and not overseas $$;

-- 6. Dates of the status data. "Observed" = at least one observation on or before the date; before
-- that the status is unknown, never "closed".
create index observation_observed_on_idx on observation (observed_on);
create or replace function last_observation() returns date
language sql stable parallel safe as $$ select max(observed_on) from observation $$;
create or replace function first_observation() returns date
language sql stable parallel safe as $$ select min(observed_on) from observation $$;

-- 7. The to-do list: obliged collectivités not open on the date, the most populous first (rank 1).
create or replace function todo_on(d date)
returns table (collectivite_id text, dataset_count integer, rank bigint)
language sql stable parallel safe as $$
    select c.id, s.dataset_count, row_number() over (order by c.population desc nulls last, c.id)
      from collectivite c join status_on(d) s on s.collectivite_id = c.id
     where c.is_obliged and not s.is_open
$$;

-- 8. What a matched row said about its organisation, kept to check a SIREN match against it
-- (Status/StatusMatching.cs): the population column of the directory.
alter table observation add column subject_population integer;

-- 9. Checks a snapshot file failed, readable in the import report and on /api/progress (e.g. a count
-- column shifted against its own URL column: those counts are stored as unknown).
alter table status_snapshot add column checks jsonb not null default '[]'::jsonb;

-- 10. OData's StatusOn says when a date precedes every observation (status unknown, not "closed"):
-- the same function as migration 003 plus the column observed.
drop function odata_status_on(date);
create function odata_status_on(d date)
returns table (id text, date date, siren text, code text, type text, name text, population bigint,
               population_band text, departement_code text, region_code text, epci_siren text,
               is_overseas_collectivity boolean, is_obliged boolean, is_open boolean, first_seen_open date,
               dataset_count bigint, open_flag bigint, obliged_flag bigint, obliged_open_flag bigint, observed boolean)
language sql stable parallel safe as $$
    select c.id, d, c.siren, c.code, c.type, c.name, c.population, c.population_band, c.departement_code,
           c.region_code, c.epci_siren, c.is_overseas_collectivity, c.is_obliged,
           s.is_open, s.first_seen_open, s.dataset_count::bigint,
           s.is_open::int::bigint, c.obliged_flag, (s.is_open and c.is_obliged)::int::bigint,
           coalesce(d >= first_observation(), false)
      from odata_collectivite c
      join status_on(d) s on s.collectivite_id = c.id
$$;
