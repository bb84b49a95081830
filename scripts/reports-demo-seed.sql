-- Demo status data for the report benchmark and manual checks, until the status/ATD import
-- (issue #3) fills these tables: observations from the two real OpenDataFrance snapshots matched
-- on SIREN only, the published milestones, and the ATD registry with a simple coverage rule.
-- Does nothing when observations already exist. Usage:
--   psql -v datadir=/path/to/data -f scripts/reports-demo-seed.sql
\set ON_ERROR_STOP on
select count(*) > 0 as has_obs from observation \gset
\if :has_obs
  \echo 'observation non vide : rien à faire.'
  \quit
\endif
begin;
create temp table odf_oct (siren text, nom text, type text, regcode text, url_ptf text, nb_ptf text, url_datagouv text,
  nb_datagouv text, id_datagouv text, id_ods text, pop text, lat text, lon text, merge text, dep text, ptf text,
  techno text, themes text, acv text, verif text, ts text);
\set f :datadir '/odf/organisations-2022-10-19.csv'
copy odf_oct from :'f' with (format csv, header true);
create temp table odf_apr (id_odf text, siren text, nom text, type text, adress text, url_ptf text, nb_ptf text,
  url_datagouv text, nb_datagouv text, id_datagouv text, merge text, tranche_ptf text, platform_clean text, orga text,
  tags text, id_ods text, depcode text, dep_label text, reg_code_short text, reg_code_geo text, pop_insee text,
  tranche_pop text, lat text, lon text, bool text);
\set f :datadir '/odf/organisations-2022-04-25.csv'
copy odf_apr from :'f' with (format csv, header true, delimiter ';');
insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, datasets_datagouv, match_method)
select distinct on (c.id) trim(o.siren), c.id, date '2022-10-19', 'odf-2022-10-19', true,
       nullif(trim(o.nb_ptf), '')::int, nullif(trim(o.nb_datagouv), '')::int, 'siren'
  from odf_oct o join collectivite c on c.siren = trim(o.siren)
 order by c.id;
insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, datasets_datagouv, match_method)
select distinct on (c.id) trim(o.siren), c.id, date '2022-04-25', 'odf-2022-04-25', true,
       nullif(trim(o.nb_ptf), '')::int, nullif(trim(o.nb_datagouv), '')::int, 'siren'
  from odf_apr o join collectivite c on c.siren = trim(o.siren)
 order by c.id;
create temp table ms (d date, open int, obliged int, obliged_open int, note text, source text);
\set f :datadir '/milestones.csv'
copy ms from :'f' with (format csv, header true);
insert into milestone select * from ms on conflict do nothing;
create temp table atd_raw (atd_id text, name text, kind text, scale text, siren text, perimeter_type text,
  perimeter_codes text, seasons text, source text, note text);
\set f :datadir '/atd/atd.csv'
copy atd_raw from :'f' with (format csv, header true);
insert into atd (id, name, kind, scale, siren, perimeter_type, perimeter_codes, seasons, source, note)
select atd_id, name, kind, nullif(scale, ''), nullif(siren, ''), nullif(perimeter_type, ''),
       coalesce(string_to_array(nullif(perimeter_codes, ''), ' '), '{}'), coalesce(string_to_array(nullif(seasons, ''), ' '), '{}'), source, note
  from atd_raw on conflict do nothing;
insert into atd_coverage (atd_id, collectivite_id)
select distinct a.id, c.id from atd a join collectivite c on
       (a.perimeter_type = 'region' and c.region_code = any (a.perimeter_codes))
    or (a.perimeter_type = 'departements' and c.departement_code = any (a.perimeter_codes) and c.type <> 'REG')
    or (a.perimeter_type = 'epci' and (c.epci_siren = any (a.perimeter_codes) or c.siren = any (a.perimeter_codes)))
    or (a.perimeter_type = 'communes' and c.type = 'COM' and c.code = any (a.perimeter_codes))
on conflict do nothing;
commit;
select (select count(*) from observation) as observations, (select count(*) from milestone) as milestones,
       (select count(*) from atd) as atd, (select count(*) from atd_coverage) as coverage;
