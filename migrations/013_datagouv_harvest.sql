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
-- The rule itself is evaluated in status_periods_of (014), which status_on, open_on and changes_between read.

-- What kind of file a row of status_snapshot is: a directory snapshot, or a data.gouv.fr harvest
-- (never complete: an organisation missing from data.gouv.fr is not observed "not listed").
alter table status_snapshot add column kind text not null default 'directory' check (kind in ('directory', 'datagouv'));

create or replace function source_rank(source text) returns integer
language sql immutable parallel safe as $$
    select case when source = 'contribution' then 1 when source like 'datagouv-%' then 3 else 2 end
$$;

-- The directory's own rows (odf-…): the ones the matching and the "not listed" rows read.
create or replace function is_directory_source(source text) returns boolean
language sql immutable parallel safe as $$ select source like 'odf-%' $$;

-- The two dates CollectiviteChanges compares: the last two directory snapshots (harvests excluded).
create or replace function latest_snapshot_pair(out d1 date, out d2 date)
language sql stable parallel safe as $$
    select coalesce((select observed_on from status_snapshot where kind = 'directory' order by observed_on desc offset 1 limit 1), first_observation()),
           coalesce((select max(observed_on) from status_snapshot where kind = 'directory'), last_observation())
$$;

create or replace function last_census() returns date
language sql stable parallel safe as $$ select max(observed_on) from status_snapshot where complete and kind = 'directory' $$;

-- The observation that decides a collectivité's status on d (the same rule, one row): the card and the
-- change lists name it.
create or replace function decisive_observation(id text, d date) returns bigint
language sql stable parallel safe as $$
    select o.id from observation o
     where o.collectivite_id = decisive_observation.id and o.observed_on <= d and o.superseded_by is null
       and (o.is_listed or o.source not like 'datagouv-%')
     order by o.observed_on desc, source_rank(o.source), o.is_listed desc, o.id desc limit 1
$$;
