-- Time travel at scale (issue #17). status_on(d) used to walk every observation up to d: fine for two
-- snapshots, not for ten years of monthly ones. The rule of 013 is now evaluated once, when
-- observations change, into status_period: for each collectivité, the runs of days over which its
-- status (open, dataset count, first seen open) stays the same, as date ranges. A date then reads at
-- most one row per collectivité through a GiST index on the range, whatever the history's length.

create table status_period (
    collectivite_id  text not null references collectivite (id) on delete cascade,
    valid            daterange not null,      -- [first day of the run, first day of the next run)
    is_open          boolean not null,
    dataset_count    integer,                 -- null = unknown (or not open)
    first_seen_open  date
);
create unique index status_period_key on status_period (collectivite_id, lower(valid));
create index status_period_valid_gix on status_period using gist (valid);

-- The runs of one set of collectivités (all of them when ids is null), from the observations as they are.
-- Per day, the deciding source (013: contribution > directory > harvest; a 0-dataset harvest row decides
-- nothing), then the state of each day with the first listed day so far; consecutive days of the same
-- state form one run.
create or replace function status_periods_of(ids text[])
returns table (collectivite_id text, valid daterange, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    with day as (
        select ob.collectivite_id, ob.observed_on, source_rank(ob.source) as rank, bool_or(ob.is_listed) as listed,
               sum(coalesce(ob.datasets_local, 0) + coalesce(ob.datasets_datagouv, 0))
                   filter (where ob.is_listed and (ob.datasets_local is not null or ob.datasets_datagouv is not null)) as datasets
          from observation ob
         where ob.collectivite_id is not null and ob.superseded_by is null
           and (ob.is_listed or ob.source not like 'datagouv-%')
           and (ids is null or ob.collectivite_id in (select unnest(ids)))
         group by ob.collectivite_id, ob.observed_on, source_rank(ob.source)),
    decided as (
        select distinct on (day.collectivite_id, day.observed_on) day.collectivite_id, day.observed_on, day.listed,
               case when day.listed then day.datasets::integer end as datasets
          from day order by day.collectivite_id, day.observed_on, day.rank),
    state as (
        select d.*, min(d.observed_on) filter (where d.listed) over w as first_open,
               lag(d.listed) over w as prev_listed, lag(d.datasets) over w as prev_datasets
          from decided d
        window w as (partition by d.collectivite_id order by d.observed_on)),
    starts as (
        -- first_open changes only on the first listed day, where listed changes too: (listed, datasets) suffices.
        select s.collectivite_id, s.observed_on, s.listed, s.datasets, s.first_open
          from state s
         where s.prev_listed is null or s.prev_listed <> s.listed or s.prev_datasets is distinct from s.datasets)
    select st.collectivite_id,
           daterange(st.observed_on, lead(st.observed_on) over (partition by st.collectivite_id order by st.observed_on)),
           st.listed, st.datasets, st.first_open
      from starts st
$$;

-- Recomputes the runs of the given collectivités (all when ids is null).
create or replace function refresh_status_periods(ids text[]) returns void
language sql as $$
    delete from status_period p where ids is null or p.collectivite_id in (select unnest(ids));
    insert into status_period select * from status_periods_of(ids);
$$;

-- Kept up to date by the database itself: every statement that writes observations (imports, the
-- matching, contributions, a test's or a script's own SQL) refreshes the runs of the collectivités it
-- touched, in its own transaction. Security definer: the contribution role (011) writes observations
-- but has no right on status_period.
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
    if ids is not null then perform refresh_status_periods(ids); end if;
    return null;
end $$;
-- (A trigger with transition tables has one event each.)
create trigger observation_periods_insert after insert on observation referencing new table as new_rows
    for each statement execute function observation_refresh_periods();
create trigger observation_periods_update after update on observation referencing old table as old_rows new table as new_rows
    for each statement execute function observation_refresh_periods();
create trigger observation_periods_delete after delete on observation referencing old table as old_rows
    for each statement execute function observation_refresh_periods();

-- The one status rule, read from the runs: one index probe per date. A collectivité without a run
-- covering d (no observation yet) is not open and its count unknown, as before.
create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    select c.id, coalesce(p.is_open, false), p.dataset_count, p.first_seen_open
      from collectivite c
      left join status_period p on p.collectivite_id = c.id and p.valid @> d
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
             where ids is null or s.collectivite_id in (select unnest(ids))) d
     where d.collectivite_id = c.id
       and (c.is_open, c.first_seen_open, c.dataset_count, c.last_observed_on)
           is distinct from (d.is_open, d.first_seen_open, d.dataset_count, d.last_observed_on);
$$;

select refresh_status_periods(null);
analyze status_period;

-- The contribution role reads the new table (refresh_derived_status runs with its rights).
select grant_contribution_role();
