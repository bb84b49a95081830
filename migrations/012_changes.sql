-- What changed between two dates (issue #17), from the one status rule status_on(d): for each
-- collectivité whose status differs, the kind of change and the observation that decides its status
-- on each date (the latest observation on or before it, not superseded; a listing row before an
-- absence row of the same day, as status_on reads them).
--   newly_open        not open on d1, open on d2
--   no_longer_listed  open on d1, not open on d2 (absent from a later complete snapshot, or observed closed)
--   datasets_up / datasets_down   open on both dates, both dataset counts known, and they differ
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
           (select o.id from observation o
             where o.collectivite_id = a.collectivite_id and o.observed_on <= d1 and o.superseded_by is null
             order by o.observed_on desc, o.is_listed desc, o.id desc limit 1),
           (select o.id from observation o
             where o.collectivite_id = b.collectivite_id and o.observed_on <= d2 and o.superseded_by is null
             order by o.observed_on desc, o.is_listed desc, o.id desc limit 1)
      from status_on(d1) a
      join status_on(d2) b on b.collectivite_id = a.collectivite_id
     where a.is_open <> b.is_open
        or (a.is_open and b.is_open and a.dataset_count is not null and b.dataset_count is not null
            and a.dataset_count <> b.dataset_count)
$$;

-- OData's Changes(From=…,To=…) and CollectiviteChanges: the same rows with the collectivité's names and
-- codes (counts as bigint, the EDM's Int64 like the other views).
create or replace function odata_changes(d1 date, d2 date)
returns table (id text, date_from date, date_to date, change text, siren text, code text, type text, name text,
               departement_code text, region_code text, is_obliged boolean, open_before boolean, open_after boolean,
               datasets_before bigint, datasets_after bigint, observation_before bigint, observation_after bigint)
language sql stable parallel safe as $$
    select c.id, d1, d2, x.change, c.siren, c.code, c.type, c.name, c.departement_code, c.region_code, c.is_obliged,
           x.open_before, x.open_after, x.datasets_before, x.datasets_after, x.observation_before, x.observation_after
      from changes_between(d1, d2) x join collectivite c on c.id = x.collectivite_id
$$;

-- The two dates CollectiviteChanges compares: the last two directory snapshots (what the latest one changed).
create or replace function latest_snapshot_pair(out d1 date, out d2 date)
language sql stable parallel safe as $$
    select coalesce((select observed_on from status_snapshot order by observed_on desc offset 1 limit 1), first_observation()),
           coalesce((select max(observed_on) from status_snapshot), last_observation())
$$;

-- The date of the latest complete directory snapshot: the last day every collectivité was looked at.
-- After it, contributions update one collectivité at a time, so the page and /api/progress say both
-- dates (last_observation() alone would present a national picture of 2022 as of the last contribution).
create or replace function last_census() returns date
language sql stable parallel safe as $$ select max(observed_on) from status_snapshot where complete $$;
