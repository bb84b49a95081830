-- Time travel at scale (issue #17). status_on(d) used to walk every observation up to d: fine for two
-- snapshots, not for ten years of monthly ones. The rule of 013 is now evaluated once, when
-- observations change, into status_period: for each collectivité, the runs of days over which its
-- status (open, dataset count, first seen open) stays the same, as date ranges. A date then reads at
-- most one row per collectivité through a GiST index on the range, whatever the history's length.

create table status_period (
    collectivite_id  text not null references collectivite (id) on delete cascade,
    valid            daterange not null,      -- [first day of the run, first day of the next run)
    is_open          boolean not null,
    dataset_count    integer,                 -- null = unknown (or not open): local + data.gouv.fr, the known parts
    first_seen_open  date,
    -- The two parts of dataset_count (null = unknown that day): /api/changes compares the parts known on
    -- both dates, so a part that becomes known (the April 2022 file's data.gouv.fr counts are unknown) is no "rise".
    local_count      integer,
    datagouv_count   integer
);
create unique index status_period_key on status_period (collectivite_id, lower(valid));
-- The columns status_on reads are in the index: a date is an index-only scan (after the vacuum of imports).
create index status_period_valid_gix on status_period using gist (valid) include (collectivite_id, is_open, dataset_count, first_seen_open);

-- The runs of the given collectivités, from the observations as they are (an index scan per collectivité).
-- Per day, the deciding source (013: contribution > directory > harvest; a 0-dataset harvest row decides
-- nothing), then the state of each day with the first listed day so far; consecutive days of the same
-- state form one run.
create or replace function status_periods_of(ids text[])
returns table (collectivite_id text, valid daterange, is_open boolean, dataset_count integer, first_seen_open date,
               local_count integer, datagouv_count integer)
language sql stable parallel safe as $$
    with day as (
        select ob.collectivite_id, ob.observed_on, source_rank(ob.source) as rank, bool_or(ob.is_listed) as listed,
               sum(ob.datasets_local) filter (where ob.is_listed) as local,
               sum(ob.datasets_datagouv) filter (where ob.is_listed) as datagouv
          from observation ob
         where ob.collectivite_id is not null and ob.superseded_by is null
           and (ob.is_listed or ob.source not like 'datagouv-%')
           and ob.collectivite_id = any(ids)
         group by ob.collectivite_id, ob.observed_on, source_rank(ob.source)),
    decided as (
        select distinct on (day.collectivite_id, day.observed_on) day.collectivite_id, day.observed_on, day.listed,
               day.local::integer as local, day.datagouv::integer as datagouv
          from day order by day.collectivite_id, day.observed_on, day.rank),
    state as (
        select d.*, min(d.observed_on) filter (where d.listed) over w as first_open,
               lag(d.listed) over w as prev_listed, lag(d.local) over w as prev_local, lag(d.datagouv) over w as prev_datagouv
          from decided d
        window w as (partition by d.collectivite_id order by d.observed_on)),
    starts as (
        -- first_open changes only on the first listed day, where listed changes too: (listed, parts) suffices.
        select s.collectivite_id, s.observed_on, s.listed, s.local, s.datagouv, s.first_open
          from state s
         where s.prev_listed is null or s.prev_listed <> s.listed
            or s.prev_local is distinct from s.local or s.prev_datagouv is distinct from s.datagouv)
    select r.collectivite_id, r.valid, r.listed,
           -- the count as 002 defined it: the known parts summed, null when none is known
           case when r.local is not null or r.datagouv is not null then coalesce(r.local, 0) + coalesce(r.datagouv, 0) end,
           r.first_open, r.local, r.datagouv
      from (select st.*, daterange(st.observed_on, lead(st.observed_on) over (partition by st.collectivite_id order by st.observed_on)) as valid
              from starts st) r
     -- A run "not open, never seen open" says what no run says (status_on's default): not stored, so a
     -- date reads the collectivités that are or were open, not every one a complete census looked at.
     where r.listed or r.first_open is not null
$$;

-- Recomputes the runs of the given collectivités (all when ids is null).
create or replace function refresh_status_periods(ids text[]) returns void
language sql as $$
    delete from status_period p where p.collectivite_id = any(coalesce(ids, array(select id from collectivite)));
    insert into status_period select * from status_periods_of(coalesce(ids, array(select id from collectivite)));
$$;

-- Kept up to date by the database itself: every statement that writes observations (imports, the
-- matching, contributions, a test's or a script's own SQL) refreshes the runs and the derived columns
-- of collectivite (refresh_derived_status, below) of the collectivités it touched, in its own
-- transaction. Security definer: the contribution role (011) writes observations but has no right on
-- status_period.
create or replace function observation_refresh_periods() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare ids text[];
begin
    if tg_op = 'INSERT' then
        select array_agg(distinct collectivite_id) into ids from new_rows where collectivite_id is not null;
    elsif tg_op = 'DELETE' then
        select array_agg(distinct collectivite_id) into ids from old_rows where collectivite_id is not null;
    else
        select array_agg(distinct x) into ids
          from (select collectivite_id as x from new_rows union select collectivite_id from old_rows) u where x is not null;
    end if;
    if ids is not null then
        perform refresh_status_periods(ids);
        perform refresh_derived_status(ids);
    end if;
    return null;
end $$;
-- (A trigger with transition tables has one event each.)
create trigger observation_periods_insert after insert on observation referencing new table as new_rows
    for each statement execute function observation_refresh_periods();
create trigger observation_periods_update after update on observation referencing old table as old_rows new table as new_rows
    for each statement execute function observation_refresh_periods();
create trigger observation_periods_delete after delete on observation referencing old table as old_rows
    for each statement execute function observation_refresh_periods();

-- The collectivités open on d: the runs alone (the indicators' past dates read only these).
create or replace function open_on(d date) returns table (collectivite_id text)
language sql stable parallel safe as $$ select p.collectivite_id from status_period p where p.valid @> d and p.is_open $$;

-- The one status rule, read from the runs: one index probe per date. A collectivité without a run
-- covering d (no observation yet) is not open and its count unknown, as before.
create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    select c.id, coalesce(p.is_open, false), p.dataset_count, p.first_seen_open
      from collectivite c
      left join status_period p on p.collectivite_id = c.id and p.valid @> d
$$;

-- What changed between two dates (012), from the runs: a status that differs, or a dataset count that
-- differs on the parts known on both dates (local platform, data.gouv.fr), by their net change.
create or replace function changes_between(d1 date, d2 date)
returns table (collectivite_id text, change text, open_before boolean, open_after boolean,
               datasets_before integer, datasets_after integer, observation_before bigint, observation_after bigint)
language sql stable parallel safe as $$
    select c.id,
           case when coalesce(b.is_open, false) and not coalesce(a.is_open, false) then 'newly_open'
                when coalesce(a.is_open, false) and not coalesce(b.is_open, false) then 'no_longer_listed'
                when x.delta > 0 then 'datasets_up' else 'datasets_down' end,
           coalesce(a.is_open, false), coalesce(b.is_open, false), a.dataset_count, b.dataset_count,
           decisive_observation(c.id, d1), decisive_observation(c.id, d2)
      from collectivite c
      left join status_period a on a.collectivite_id = c.id and a.valid @> d1
      left join status_period b on b.collectivite_id = c.id and b.valid @> d2
      cross join lateral (select coalesce(b.local_count - a.local_count, 0) + coalesce(b.datagouv_count - a.datagouv_count, 0) as delta) x
     where coalesce(a.is_open, false) <> coalesce(b.is_open, false)
        or (a.is_open and b.is_open and x.delta <> 0)
$$;

-- The derived columns of collectivite (002) for the given collectivités (all when ids is null), from
-- the runs: the status today, and the last observation day (an index probe per collectivité).
create or replace function refresh_derived_status(ids text[]) returns void
language sql as $$
    update collectivite c set is_open = d.is_open, first_seen_open = d.first_seen_open,
           dataset_count = d.dataset_count, last_observed_on = d.last_observed_on
      from (select s.collectivite_id, s.is_open, s.first_seen_open, s.dataset_count,
                   (select max(o.observed_on) from observation o
                     where o.collectivite_id = s.collectivite_id and o.superseded_by is null) as last_observed_on
              from status_on('infinity'::date) s
             where ids is null or s.collectivite_id = any(ids)) d
     where d.collectivite_id = c.id
       and (c.is_open, c.first_seen_open, c.dataset_count, c.last_observed_on)
           is distinct from (d.is_open, d.first_seen_open, d.dataset_count, d.last_observed_on);
$$;

select refresh_status_periods(null);
analyze status_period;

-- "Directory rows" (is_directory_source: source like 'odf-%') and "harvest rows" (like 'datagouv-%') are
-- prefix searches: under the cluster's C.UTF-8 collation a plain btree does not serve LIKE, so an
-- import's matching read every observation (4.4 million in scripts/bench-history.sh) to find its own.
drop index observation_source_idx;
create index observation_source_idx on observation (source text_pattern_ops);

-- The contribution role reads the new table (its answers read status_on).
select grant_contribution_role();
