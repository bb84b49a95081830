-- Writes that cost what they change, not the length of the history (issue #17). The triggers of 014
-- recomputed every run of each collectivité a statement touched from all its observations: with ten
-- years of monthly observations an import of one snapshot re-read 120 days for each of 900
-- collectivités (2 s of a 5.7 s import in scripts/bench-history.sh). A run that starts before the
-- earliest day a statement changed keeps its state (the rule decides a day from that day's
-- observations alone), so the runs are recomputed from the last one starting before that day, with
-- that run's first day seen open carried in.

-- The rule of 014 (same text, see its comments), evaluated from starts[i] on for ids[i] (from the
-- beginning when null), firsts[i] being the first day seen open before starts[i] (null when none).
create or replace function status_periods_of(ids text[], starts date[], firsts date[])
returns table (collectivite_id text, valid daterange, is_open boolean, dataset_count integer, first_seen_open date,
               local_count integer, datagouv_count integer)
language sql stable parallel safe as $$
    with base as (select * from unnest(ids, starts, firsts) b(id, start, first_open)),
    day as (
        select ob.collectivite_id, ob.observed_on, source_rank(ob.source) as rank, bool_or(ob.is_listed) as listed,
               sum(ob.datasets_local) filter (where ob.is_listed) as local,
               sum(ob.datasets_datagouv) filter (where ob.is_listed) as datagouv
          from base
          join observation ob on ob.collectivite_id = base.id and ob.observed_on >= coalesce(base.start, '-infinity'::date)
         where ob.superseded_by is null
           and (ob.is_listed or ob.source not like 'datagouv-%')
         group by ob.collectivite_id, ob.observed_on, source_rank(ob.source)),
    decided as (
        select distinct on (day.collectivite_id, day.observed_on) day.collectivite_id, day.observed_on, day.listed,
               day.local::integer as local, day.datagouv::integer as datagouv
          from day order by day.collectivite_id, day.observed_on, day.rank),
    state as (
        select d.*, coalesce(b.first_open, min(d.observed_on) filter (where d.listed) over w) as first_open,
               lag(d.listed) over w as prev_listed, lag(d.local) over w as prev_local, lag(d.datagouv) over w as prev_datagouv
          from decided d join base b on b.id = d.collectivite_id
        window w as (partition by d.collectivite_id order by d.observed_on)),
    starts as (
        select s.collectivite_id, s.observed_on, s.listed, s.local, s.datagouv, s.first_open
          from state s
         where s.prev_listed is null or s.prev_listed <> s.listed
            or s.prev_local is distinct from s.local or s.prev_datagouv is distinct from s.datagouv)
    select r.collectivite_id, r.valid, r.listed,
           case when r.local is not null or r.datagouv is not null then coalesce(r.local, 0) + coalesce(r.datagouv, 0) end,
           r.first_open, r.local, r.datagouv
      from (select st.*, daterange(st.observed_on, lead(st.observed_on) over (partition by st.collectivite_id order by st.observed_on)) as valid
              from starts st) r
     where r.listed or r.first_open is not null
$$;

-- Every run from the first observation: the reference the incremental refresh is tested against.
create or replace function status_periods_of(ids text[])
returns table (collectivite_id text, valid daterange, is_open boolean, dataset_count integer, first_seen_open date,
               local_count integer, datagouv_count integer)
language sql stable parallel safe as $$ select * from status_periods_of(ids, null, null) $$;

-- Recomputes the runs of the given collectivités (all when ids is null) from the last run starting
-- before `since` (from their first observation when since is null or no run starts before it).
create or replace function refresh_status_periods(ids text[], since date) returns void
language plpgsql as $$
declare
    starts date[];
    firsts date[];
    fresh status_period[];
begin
    ids := coalesce(ids, array(select id from collectivite));
    select array_agg(k.start order by i.n), array_agg(k.first_open order by i.n), array_agg(i.id order by i.n)
      into starts, firsts, ids
      from unnest(ids) with ordinality i(id, n)
      left join lateral (select lower(p.valid) as start, p.first_seen_open as first_open
                           from status_period p
                          where p.collectivite_id = i.id and lower(p.valid) < since
                          order by lower(p.valid) desc limit 1) k on true;
    fresh := array(select row(f.*)::status_period from status_periods_of(ids, starts, firsts) f);
    delete from status_period p
     using unnest(ids, starts) b(id, start)
     where p.collectivite_id = b.id and lower(p.valid) >= coalesce(b.start, '-infinity'::date);
    insert into status_period select * from unnest(fresh);
end $$;

create or replace function refresh_status_periods(ids text[]) returns void
language sql as $$ select refresh_status_periods(ids, null) $$;

-- The trigger of 014, from the earliest day the statement changed.
create or replace function observation_refresh_periods() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare ids text[]; since date;
begin
    if tg_op = 'INSERT' then
        select array_agg(distinct collectivite_id), min(observed_on) into ids, since from new_rows where collectivite_id is not null;
    elsif tg_op = 'DELETE' then
        select array_agg(distinct collectivite_id), min(observed_on) into ids, since from old_rows where collectivite_id is not null;
    else
        select array_agg(distinct x), min(d) into ids, since
          from (select collectivite_id as x, observed_on as d from new_rows union all select collectivite_id, observed_on from old_rows) u
         where x is not null;
    end if;
    if ids is not null then
        perform refresh_status_periods(ids, since);
        perform refresh_derived_status(ids);
    end if;
    return null;
end $$;

-- "Was it listed before that day?" (StatusMatching's absence rows) probes the subject's first listed
-- day instead of reading all its observations (0.5 s of an import with ten years of history).
create index observation_listed_subject_idx on observation (subject_key, observed_on) where is_listed;
