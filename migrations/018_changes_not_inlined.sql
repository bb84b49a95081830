-- changes_between (014) as a PL/pgSQL function: planned on its own, never inlined into its callers.
-- Inlined, the planner folded `observation.id = decisive_observation(c.id, d)` into the callers' joins
-- (Indicators/Changes.cs joins the deciding observations and the label points) and evaluated it for all
-- 36,000 collectivités before keeping the few that changed: 370 ms for one change between the bundled
-- snapshots. Here the two deciding observations are looked up for the changed rows only, and the
-- callers join a result estimated at 100 rows by index (51 ms). Same rule, same columns as 014.
create or replace function changes_between(d1 date, d2 date)
returns table (collectivite_id text, change text, open_before boolean, open_after boolean,
               datasets_before integer, datasets_after integer, observation_before bigint, observation_after bigint)
language plpgsql stable parallel safe rows 100 as $$
begin
    return query
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
        or (a.is_open and b.is_open and x.delta <> 0);
end
$$;
