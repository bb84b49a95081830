-- The ATD entity set counted each ATD's coverage in a LATERAL subquery, which PostgreSQL planned as a hash
-- join over a full scan of collectivite for each of the 55 ATDs: every request on /odata/Atds (a page, a
-- filter, an $expand=Atds from a collectivité) took about 1 s on the 2-core machine. The same counts, made
-- in one grouped pass over atd_coverage (a key lookup still reaches only its own ATD: the condition on
-- a.id is carried into the grouped subquery).
create or replace view odata_atd as
select a.id, a.name, a.kind, a.scale, a.siren::text as siren, a.perimeter_type, a.perimeter_codes, a.seasons,
       a.source, a.note, a.collectivite_id,
       coalesce(k.covered, 0)         as covered_count,
       coalesce(k.obliged, 0)         as covered_obliged_count,
       coalesce(k.obliged_open, 0)    as covered_obliged_open_count
  from atd a
  left join (
       select v.atd_id,
              count(*) as covered,
              count(*) filter (where c.is_obliged) as obliged,
              count(*) filter (where c.is_obliged and c.is_open) as obliged_open
         from atd_coverage v join collectivite c on c.id = v.collectivite_id
        group by v.atd_id) k on k.atd_id = a.id;
