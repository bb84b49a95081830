-- A second observation source (issue #17): data.gouv.fr's export of its organisations, harvested as
-- dated observations (Status/DataGouvHarvest.cs). Which observation wins on a date:
--   1. the most recent observation day on or before the date decides (as before);
--   2. on one day, the highest-ranked source present decides: a contribution (a person checked) before
--      the OpenDataFrance directory before the data.gouv.fr harvest (source_rank below); rows of that
--      source on that day combine as before (listed if any is listed, known counts summed);
--   3. a harvest row with 0 datasets decides nothing: data.gouv.fr is one place among others, so a
--      collectivité absent from it (or present without datasets) may publish on its own portal. It is
--      kept and shown in the card; only a harvest row with at least one dataset is evidence of opening.
-- A day decided by the harvest counts data.gouv.fr's datasets only (a lower bound of what is published).

-- What kind of file a row of status_snapshot is: a directory snapshot, or a data.gouv.fr harvest
-- (never complete: an organisation missing from data.gouv.fr is not observed "not listed").
alter table status_snapshot add column kind text not null default 'directory' check (kind in ('directory', 'datagouv'));

create or replace function source_rank(source text) returns integer
language sql immutable parallel safe as $$
    select case when source = 'contribution' then 1 when source like 'datagouv-%' then 3 else 2 end
$$;

-- The directory's own rows (odf-…): the ones the matching, the "not listed" rows and the import guards read.
create or replace function is_directory_source(source text) returns boolean
language sql immutable parallel safe as $$ select source like 'odf-%' $$;

create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    with day as (
        select ob.collectivite_id, ob.observed_on, source_rank(ob.source) as rank, bool_or(ob.is_listed) as listed,
               sum(coalesce(ob.datasets_local, 0) + coalesce(ob.datasets_datagouv, 0))
                   filter (where ob.is_listed and (ob.datasets_local is not null or ob.datasets_datagouv is not null)) as datasets
          from observation ob
         where ob.collectivite_id is not null and ob.observed_on <= d and ob.superseded_by is null
           and (ob.is_listed or ob.source not like 'datagouv-%')
         group by ob.collectivite_id, ob.observed_on, source_rank(ob.source)),
    latest as (
        select distinct on (day.collectivite_id) day.collectivite_id, day.listed, day.datasets
          from day order by day.collectivite_id, day.observed_on desc, day.rank),
    first_open as (
        select day.collectivite_id, min(day.observed_on) as first_open from day where day.listed group by day.collectivite_id)
    select c.id,
           coalesce(l.listed, false),
           case when l.listed then l.datasets::integer end,
           f.first_open
      from collectivite c
      left join latest l on l.collectivite_id = c.id
      left join first_open f on f.collectivite_id = c.id
$$;

-- The two dates CollectiviteChanges compares: the last two directory snapshots (harvests excluded).
create or replace function latest_snapshot_pair(out d1 date, out d2 date)
language sql stable parallel safe as $$
    select coalesce((select observed_on from status_snapshot where kind = 'directory' order by observed_on desc offset 1 limit 1), first_observation()),
           coalesce((select max(observed_on) from status_snapshot where kind = 'directory'), last_observation())
$$;

create or replace function last_census() returns date
language sql stable parallel safe as $$ select max(observed_on) from status_snapshot where complete and kind = 'directory' $$;

-- The latest harvest, for the page and /api/progress ("data.gouv.fr moissonné le …").
create or replace function last_harvest() returns date
language sql stable parallel safe as $$ select max(observed_on) from status_snapshot where kind = 'datagouv' $$;

-- The observation that decides a collectivité's status on d (status_on's rule, one row): the card and
-- the change lists name it.
create or replace function decisive_observation(id text, d date) returns bigint
language sql stable parallel safe as $$
    select o.id from observation o
     where o.collectivite_id = decisive_observation.id and o.observed_on <= d and o.superseded_by is null
       and (o.is_listed or o.source not like 'datagouv-%')
     order by o.observed_on desc, source_rank(o.source), o.is_listed desc, o.id desc limit 1
$$;

-- changes_between (012) names the observation that decides each side: the same rule as status_on.
create or replace function changes_between(d1 date, d2 date)
returns table (collectivite_id text, change text, open_before boolean, open_after boolean,
               datasets_before integer, datasets_after integer, observation_before bigint, observation_after bigint)
language sql stable parallel safe as $$
    select b.collectivite_id,
           case when b.is_open and not a.is_open then 'newly_open'
                when a.is_open and not b.is_open then 'no_longer_listed'
                when b.dataset_count > a.dataset_count then 'datasets_up'
                else 'datasets_down' end,
           a.is_open, b.is_open, a.dataset_count, b.dataset_count,
           decisive_observation(a.collectivite_id, d1), decisive_observation(b.collectivite_id, d2)
      from status_on(d1) a
      join status_on(d2) b on b.collectivite_id = a.collectivite_id
     where a.is_open <> b.is_open
        or (a.is_open and b.is_open and a.dataset_count is not null and b.dataset_count is not null
            and a.dataset_count <> b.dataset_count)
$$;
