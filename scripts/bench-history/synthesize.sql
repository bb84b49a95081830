-- A synthetic history on the real collectivités (issue #17, scripts/bench-history.sh): 120 monthly
-- observations of every collectivité, 2016-01-15 … 2025-12-15 (36,362 × 120 ≈ 4.4 million rows), as a
-- complete monthly census would record them. Deterministic (hashes of the id, not random()), so two
-- runs build the same history. Per collectivité:
--   * an opening month: most EPCI, départements, régions and communes of 10,000 inhabitants or more open
--     within the ten years, one small commune in twenty (about 4,500 open in 2025, against 705 in 2022's
--     directory: the goal of 2,000 and beyond);
--   * one in eight of those closes 12 to 36 months later, and half of these reopen a year after;
--   * about one month in 600 flips (a random opening or closing for that month only);
--   * while open, a dataset count that grows with time and moves a little every month.
-- Source 'synth-AAAA-MM' ranks as the directory (source_rank 2); the rows are already matched.
\timing on
insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, datasets_datagouv, match_method)
select 'synth:' || c.id, c.id, (date '2016-01-15' + make_interval(months => m.i))::date, 'synth-' || to_char(date '2016-01-15' + make_interval(months => m.i), 'YYYY-MM'),
       s.listed,
       case when s.listed then 1 + greatest(0, m.i - p.open_month) * (1 + p.growth) / 6 + abs(hashtext(c.id || ':' || m.i)) % 3 end,
       null, 'siren'
  from collectivite c
  cross join lateral (select
         -- larger collectivités open earlier; about a quarter of all open within the 120 months
         case when c.type <> 'COM' or coalesce(c.population, 0) >= 10000 then abs(hashtext(c.id || ':o')) % 150
              else 20 + abs(hashtext(c.id || ':o')) % 2000 end as open_month,
         case when abs(hashtext(c.id || ':c')) % 8 = 0 then 12 + abs(hashtext(c.id || ':d')) % 25 end as open_for,
         abs(hashtext(c.id || ':r')) % 2 = 0 as reopens,
         abs(hashtext(c.id || ':g')) % 5 as growth) p
  cross join generate_series(0, 119) m(i)
  cross join lateral (select (
         (m.i >= p.open_month and (p.open_for is null or m.i < p.open_month + p.open_for
                                   or (p.reopens and m.i >= p.open_month + p.open_for + 12)))
         <> (abs(hashtext(c.id || ':f' || m.i)) % 600 = 0)) as listed) s;
vacuum analyze observation;
vacuum analyze status_period;
select count(*) as observations, (select count(*) from status_period) as periods from observation;
