-- A synthetic history on the real collectivités (issue #17, scripts/bench-history.sh): monthly
-- observations of every collectivité, 2016-01-15 … 2025-12-15 (36,362 × 113 ≈ 4.1 million rows), as a
-- complete monthly census would record them. Deterministic (hashes of the id, not random()), so two
-- runs build the same history. Per collectivité:
--   * an opening month: most EPCI, départements, régions and communes of 10,000 inhabitants or more open
--     within the ten years, one small commune in twenty (about 4,500 open in 2025, against 705 in 2022's
--     directory: the goal of 2,000 and beyond);
--   * one in eight of those closes 12 to 36 months later, and half of these reopen a year after;
--   * about one month in 600 flips (a random opening or closing for that month only);
--   * while open, a dataset count that grows with time and moves a little every month.
-- Source 'synth-AAAA-MM' ranks as the directory (source_rank 2); the rows are already matched.
--
-- The bundled directory snapshots (2022-04-25 and 2022-10-19) keep the months between them: the census
-- skips April to October 2022, and whatever it has open in March 2022 and April's directory does not
-- list gets the "not listed" row a complete snapshot gives (StatusMatching does so for everything listed
-- before it). So from 2022-04-25 to 2022-11-14 the status is the bundled snapshots' own: a date there
-- has the same answer with ten years of history as with the two snapshots alone, which is what the
-- benchmark compares (the other dates measure the cost with about four times as many open collectivités).
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
         <> (abs(hashtext(c.id || ':f' || m.i)) % 600 = 0)) as listed) s
 where m.i not between 75 and 81;  -- 2022-04-15 … 2022-10-15: the directory snapshots' months
insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, match_method)
select o.subject_key, o.collectivite_id, date '2022-04-25', 'odf-2022-04-25', false, 'siren'
  from observation o
 where o.source = 'synth-2022-03' and o.is_listed
   and not exists (select 1 from observation x where x.collectivite_id = o.collectivite_id and x.source = 'odf-2022-04-25' and x.is_listed);
vacuum analyze observation;
vacuum analyze status_period;
select count(*) as observations, (select count(*) from status_period) as periods from observation;
