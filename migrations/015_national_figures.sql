-- National indicators at any date in a few milliseconds (issue #17). The national figures scanned every
-- collectivité and probed each commune's parents, about 100 ms a date on 2 cores with ten years of
-- history, whatever the date. Most of that work does not depend on the date: how many collectivités the
-- national scope holds, how many are obliged, and how many inhabitants live in the communes under each
-- EPCI, EPT, département and région. It changes only with the reference list, so it is computed once per
-- reference import (refresh_national_figures(), called by the import after refresh_obligation()); a date
-- then only selects the few thousand collectivités open on it (IndicatorQueries' national query).

-- The runs of open days alone, for what reads only those (open_on, the map's dated filters): with ten
-- years of history most runs containing a date are closed ones (5,860 of 6,565 on 2022-10-19 in the
-- benchmark's history), which the index of 014 must read and discard (7 ms; 0.7 ms with this one).
create index status_period_open_gix on status_period using gist (valid) include (collectivite_id, dataset_count) where is_open;

-- Tables filled by refresh_national_figures(), not materialised views: a restore (pg_restore runs with an
-- empty search_path) would refresh a view through counts_nationally, whose body names collectivite_types()
-- unqualified, and fail; a table's rows are restored as they were dumped.

-- The national scope (counts_nationally) as a whole: collectivités, obliged ones, population of its communes.
create table national_scope_total (collectivites bigint not null, obliged bigint not null, population bigint not null);

-- The population of the national scope's communes under each parent, by level (EPCI and EPT by SIREN,
-- DEP and REG by code). An EPT's rows are split by the EPCI of its communes (the Métropole du Grand
-- Paris), so that a commune under an open EPT and an open EPCI is counted once.
create table commune_population_under (level text not null, key text not null, epci text, population bigint not null);
create index commune_population_under_key on commune_population_under (level, key) include (epci, population);

create or replace function refresh_national_figures() returns void
language sql as $$
    delete from national_scope_total;
    insert into national_scope_total
    select count(*), count(*) filter (where is_obliged), coalesce(sum(population) filter (where type = 'COM'), 0)
      from collectivite
     where counts_nationally(type, is_overseas_collectivity);

    delete from commune_population_under;
    insert into commune_population_under
    with m as (select * from collectivite where type = 'COM' and counts_nationally(type, is_overseas_collectivity))
    select 'EPCI', epci_siren::text, null, sum(population) from m where epci_siren is not null group by epci_siren
    union all
    select 'EPT', ept_siren::text, epci_siren::text, sum(population) from m where ept_siren is not null group by ept_siren, epci_siren
    union all
    select 'DEP', departement_code, null, sum(population) from m where departement_code is not null group by departement_code
    union all
    select 'REG', region_code, null, sum(population) from m where region_code is not null group by region_code;
$$;
select refresh_national_figures();
analyze national_scope_total;
analyze commune_population_under;

-- The contribution role reads what the indicators read.
select grant_contribution_role();
