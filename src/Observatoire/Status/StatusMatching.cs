using Observatoire.Data;
using Npgsql;

namespace Observatoire.Status;

/// <summary>
/// Everything derived from the observations, recomputed set-based in the caller's transaction after any
/// status import AND after any reference re-import (collectivité rows may have changed):
/// <list type="number">
/// <item>"not listed" observations: an organisation listed before a complete snapshot and absent from it
///   is observed not listed on that snapshot's date (rows with <c>source_line</c> null);</item>
/// <item>matching of each observed organisation (subject) to the reference list, from what the rows
///   stored (SIREN, name, type, département, région, point location — the latest known location of the
///   subject in any snapshot, since the 2022-10 export lacks most EPCI coordinates);</item>
/// <item>the derived columns of <c>collectivite</c> (is_open, first_seen_open, dataset_count, last_observed_on), refreshed
///   by the observation table's triggers for the collectivités each statement touched.</item>
/// </list>
/// Matching order, first hit wins, each with its evidence: <c>actor</c> (type outside the reference list →
/// associated_actor) · <c>siren</c>, kept only when the row's type family, département, position and
/// population do not contradict it · <c>homonym</c> (the SIREN was a homonym's: the commune of that name in
/// the row's département or around its point) · <c>code</c> (départements/régions: the list carries their INSEE code,
/// not their SIREN) · <c>merger</c> (name of a former commune of the same département → its current commune) ·
/// <c>name</c> (current commune of the same name and département, e.g. overseas communes without SIREN) ·
/// <c>location</c> (point inside a current commune of the département, or inside a current EPCI/EPT) ·
/// <c>actor</c> again for a row typed as an EPCI but larger than the EPCI around its point (a PETR) ·
/// <c>unmatched</c> with the reason.
/// </summary>
public static class StatusMatching
{
    public static async Task RefreshAsync(NpgsqlConnection conn, CancellationToken ct = default)
    {
        await conn.ExecAsync(NotListedSql, ct);
        await conn.ExecAsync(MatchSql, ct);
        // The derived columns follow by themselves: the observation table's triggers refresh them for
        // every collectivité a statement touched (migrations/014_status_periods.sql).
    }

    const string NotListedSql = """
        -- Absence rows no longer justified (a snapshot re-imported with the organisation, or its earlier listing gone).
        delete from observation o
         where not o.is_listed and is_directory_source(o.source)
           and (not exists (select 1 from status_snapshot s where s.source = o.source and s.complete)
                or exists (select 1 from observation x where x.subject_key = o.subject_key and x.source = o.source and x.is_listed)
                or not exists (select 1 from observation p where p.subject_key = o.subject_key and p.is_listed and p.observed_on < o.observed_on));

        insert into observation (subject_key, observed_on, source, is_listed, match_method, subject_siren, subject_name,
                                 subject_type, subject_departement, subject_region, location)
        select distinct on (p.subject_key, s.source)
               p.subject_key, s.observed_on, s.source, false, 'unmatched', p.subject_siren, p.subject_name,
               p.subject_type, p.subject_departement, p.subject_region, p.location
          from status_snapshot s
          join observation p on p.is_listed and p.observed_on < s.observed_on and is_directory_source(p.source)
         where s.complete
           and not exists (select 1 from observation x where x.subject_key = p.subject_key and x.source = s.source)
         order by p.subject_key, s.source, p.observed_on desc
        on conflict (subject_key, observed_on, source) do nothing;
        """;

    const string MatchSql = """
        create temp table subj on commit drop as
        select distinct on (o.subject_key) o.subject_key, o.subject_siren, o.subject_name, o.subject_type,
               o.subject_departement, o.subject_region, o.subject_population,
               string_to_array(o.subject_departement, ',') as departements,
               (select l.location from observation l where l.subject_key = o.subject_key and l.location is not null
                 order by l.observed_on desc limit 1) as location,
               null::text as collectivite_id, null::text as actor_id, null::text as actor_type, null::text as method,
               null::text as evidence, null::text as siren_conflict
          from observation o
         where o.is_listed and is_directory_source(o.source)
         order by o.subject_key, o.observed_on desc;
        create unique index on subj (subject_key);

        -- Associated actors: organisations whose type is outside the reference list.
        update subj set method = 'actor', actor_id = 'ACT-' || subject_siren, actor_type = subject_type,
               evidence = 'type ' || subject_type || ' hors du référentiel des collectivités : acteur associé'
         where not (subject_type = any(collectivite_types()));

        -- A SIREN match is kept only when the row's other facts agree with the collectivité it points to:
        -- its type family, and no two of its département, position (within about 2 km) and population
        -- (within a factor 2: the directory's column is noisy) contradicting it. Otherwise the SIREN is
        -- another body's (a homonym's, e.g. Chelles 77 carrying the SIREN of Chelles 60): resolved below
        -- by name, département and position, with the conflict as evidence.
        with f as (
            select s.subject_key, c.id, c.name, c.departement_code, c.population,
                   case when s.subject_type = 'COM' then c.type = 'COM'
                        when s.subject_type = any(epci_types()) then c.type = any(epci_types())
                        else c.type = s.subject_type end as family_ok,
                   case when s.departements is null then null
                        when c.departement_code = any(s.departements) then true
                        when c.type = 'COM' then false
                        else exists (select 1 from collectivite m where m.type = 'COM' and (m.epci_siren = c.siren or m.ept_siren = c.siren)
                                        and m.departement_code = any(s.departements)) end as dep_ok,
                   case when s.location is null or g.geom is null then null else st_dwithin(g.geom, s.location, 0.02) end as loc_ok,
                   case when s.subject_population is null or c.population is null then null
                        else s.subject_population between c.population / 2.0 and c.population * 2.0 end as pop_ok
              from subj s
              join collectivite c on c.siren = s.subject_siren and c.type <> 'COLOM'
              left join collectivite_geometry g on g.collectivite_id = c.id
             where s.method is null)
        update subj s set method = case when ok then 'siren' end, collectivite_id = case when ok then f.id end, evidence = null,
               siren_conflict = case when not ok then format('SIREN %s d''un homonyme%s : %s « %s »%s, alors que la ligne dit %s',
                   s.subject_siren, case when f.departement_code is not null then ' du département ' || f.departement_code else '' end,
                   f.id, f.name, case when f.population is not null then ', ' || fr_int(f.population) || ' hab.' else '' end,
                   concat_ws(', ',
                     case when not f.family_ok then 'type ' || s.subject_type end,
                     case when not f.dep_ok then 'département ' || s.subject_departement end,
                     case when not f.loc_ok then format('position (%s, %s)', round(st_y(s.location)::numeric, 5), round(st_x(s.location)::numeric, 5)) end,
                     case when not f.pop_ok then fr_int(s.subject_population) || ' hab.' end)) end
          from (select f.*, f.family_ok and ((not coalesce(f.dep_ok, true))::int + (not coalesce(f.loc_ok, true))::int
                                             + (not coalesce(f.pop_ok, true))::int) < 2 as ok from f) f
         where s.subject_key = f.subject_key;

        -- The commune the row describes: same name, and in its département or around its position
        -- (the position decides when the département column is wrong too); exactly one candidate.
        update subj s set method = 'homonym', collectivite_id = m.id,
               evidence = format('%s ; résolu par le nom%s : commune %s « %s »', s.siren_conflict,
                                 case when m.dep_ok and m.loc_ok then ', le département et la position' when m.dep_ok then ' et le département'
                                      else ' et la position' end, m.code, m.name)
          from (select s2.subject_key, min(c.id) as id, min(c.code) as code, min(c.name) as name,
                       bool_or(c.departement_code = any(s2.departements)) as dep_ok, bool_or(st_dwithin(g.geom, s2.location, 0.02)) as loc_ok
                  from subj s2
                  join collectivite c on c.type = 'COM' and c.search_name = search_key(s2.subject_name)
                  left join collectivite_geometry g on g.collectivite_id = c.id
                 where s2.siren_conflict is not null and s2.method is null and s2.subject_type = 'COM'
                   and c.siren is distinct from s2.subject_siren
                   and (c.departement_code = any(s2.departements) or st_dwithin(g.geom, s2.location, 0.02))
                 group by s2.subject_key having count(distinct c.id) = 1) m
         where s.subject_key = m.subject_key;

        update subj s set method = 'code', collectivite_id = c.id,
               evidence = format('département %s (le référentiel ne porte pas le SIREN des départements)', c.code)
          from collectivite c
         where s.method is null and s.subject_type = 'DEP' and c.type = 'DEP' and c.code = s.subject_departement;
        update subj s set method = 'code', collectivite_id = c.id,
               evidence = format('région %s (le référentiel ne porte pas le SIREN des régions)', c.code)
          from collectivite c
         where s.method is null and s.subject_type = 'REG' and c.type = 'REG' and c.code = s.subject_region;
        update subj s set method = 'code', collectivite_id = c.id,
               evidence = format('collectivité d''outre-mer %s « %s »', c.code, c.name)
          from collectivite c
         where s.method is null and s.subject_type = 'REG' and s.subject_region is null and c.type = 'COLOM' and c.code = s.subject_departement;

        -- A département or région entry that is not a legal body of its own (legal_body_merge): the row is
        -- the legal body's (the "HAUT RHIN" of an old directory is the Collectivité européenne d'Alsace).
        update subj s set collectivite_id = m.body_id,
               evidence = s.evidence || format(' ; même personne morale que %s : %s', m.body_id, m.body_name)
          from legal_body_merge m
         where s.method = 'code' and m.collectivite_id = s.collectivite_id;

        -- A former commune (déléguée, associée, or old code) of that name in the département: one current commune only.
        update subj s set method = 'merger', collectivite_id = m.id,
               evidence = format('SIREN %s absent du référentiel : ancienne commune %s « %s » (%s), aujourd''hui commune %s « %s »',
                                 s.subject_siren, m.fcode, m.fname, m.kind, m.code, m.name)
          from (select s2.subject_key, min(c.id) as id, min(c.code) as code, min(c.name) as name,
                       min(f.code) as fcode, min(f.name) as fname, min(f.kind) as kind
                  from subj s2
                  join former_commune f on search_key(f.name) = search_key(s2.subject_name)
                  join collectivite c on c.type = 'COM' and c.code = f.current_code and c.departement_code = s2.subject_departement
                 where s2.method is null and s2.subject_type = 'COM'
                 group by s2.subject_key having count(distinct c.id) = 1) m
         where s.subject_key = m.subject_key;

        -- Same name in the département. When that commune is a commune nouvelle that kept the name
        -- (Saint-Germain-en-Laye + Fourqueux), the SIREN changed with the merger: say so.
        update subj s set method = case when m.merged is null then 'name' else 'merger' end, collectivite_id = m.id,
               evidence = format('SIREN %s absent du référentiel : commune « %s » du département %s, même nom%s', s.subject_siren, m.name, s.subject_departement,
                                 case when m.merged is null then '' else ' ; commune nouvelle issue de : ' || m.merged end)
          from (select s2.subject_key, min(c.id) as id, min(c.name) as name,
                       (select string_agg(distinct concat_ws(' ', f.code, f.name), ', ') from former_commune f
                         where f.current_code = min(c.code) and f.code <> min(c.code)) as merged
                  from subj s2
                  join collectivite c on c.type = 'COM' and c.search_name = search_key(s2.subject_name) and c.departement_code = s2.subject_departement
                 where s2.method is null and s2.subject_type = 'COM'
                 group by s2.subject_key having count(*) = 1) m
         where s.subject_key = m.subject_key;

        -- An EPCI whose SIREN changed (merger, change of category) but kept its name: the name without
        -- its category prefix ("CA", "CC du"…) in the reference list, when exactly one EPCI has it. Checked
        -- before the point location, whose geocoding can fall outside the EPCI (CA Paris - Vallée de la Marne).
        update subj s set method = 'name', collectivite_id = m.id,
               evidence = format('SIREN %s absent du référentiel (EPCI de SIREN changé par une fusion ou un changement de catégorie, à une date que l''annuaire ne donne pas) : EPCI %s « %s », même nom', s.subject_siren, m.siren, m.name)
          from (select s2.subject_key, min(c.id) as id, min(c.siren) as siren, min(c.name) as name
                  from subj s2
                  join collectivite c on c.type = any(epci_types())
                   and epci_name_key(c.name) = epci_name_key(s2.subject_name)
                 where s2.method is null and s2.subject_type = any(epci_types())
                 group by s2.subject_key having count(*) = 1) m
         where s.subject_key = m.subject_key;

        update subj s set method = 'location', collectivite_id = m.id,
               evidence = format('SIREN %s absent du référentiel : position (%s, %s) dans %s « %s »%s', s.subject_siren,
                                 round(st_y(s.location)::numeric, 5), round(st_x(s.location)::numeric, 5),
                                 case when m.type = 'COM' then 'la commune ' || m.code else 'l''EPCI ' || m.siren end, m.name,
                                 case when m.type <> 'COM' then ' (un EPCI disparu, fusionné ou de SIREN changé, est rattaché à l''EPCI qui couvre aujourd''hui son territoire)' else '' end)
          from (select s2.subject_key, min(c.id) as id, min(c.code) as code, min(c.siren) as siren, min(c.name) as name, min(c.type) as type
                  from subj s2
                  join collectivite_geometry g on st_intersects(g.geom, s2.location)
                  join collectivite c on c.id = g.collectivite_id and (
                       (s2.subject_type = 'COM' and c.type = 'COM' and (s2.subject_departement is null or c.departement_code = any(s2.departements)))
                    or (s2.subject_type = any(epci_types()) and c.type = any(epci_types())
                        -- A former EPCI is part of the one that absorbed it, never larger: a body larger than the EPCI
                        -- around its point (a PETR or pays typed CC) is not one of its members (handled below).
                        and (s2.subject_population is null or c.population is null or s2.subject_population <= c.population * 1.5))
                    or (s2.subject_type = 'EPT' and c.type = 'EPT'))
                 where s2.method is null and s2.location is not null
                 group by s2.subject_key having count(*) = 1) m
         where s.subject_key = m.subject_key;

        -- A row typed as an EPCI that is larger than the EPCI around its point: another kind of groupement
        -- (PETR, pays, syndicat), an associated actor rather than a collectivité.
        update subj s set method = 'actor', actor_id = 'ACT-' || s.subject_siren, actor_type = 'AGCT',
               evidence = format('SIREN %s absent du référentiel ; typé %s dans l''annuaire mais %s habitants, plus que l''EPCI où se trouve son point (%s « %s », %s hab.) : groupement d''un autre type (PETR, pays, syndicat), acteur associé',
                                 s.subject_siren, s.subject_type, fr_int(s.subject_population), c.siren, c.name, fr_int(c.population))
          from collectivite_geometry g join collectivite c on c.id = g.collectivite_id
         where s.method is null and s.subject_type = any(epci_types()) and s.location is not null
           and c.type = any(epci_types()) and st_intersects(g.geom, s.location) and s.subject_population > c.population * 1.5;

        insert into associated_actor (id, siren, name, type, departement_code, location)
        select actor_id, subject_siren, subject_name, actor_type, subject_departement, location from subj where method = 'actor'
        on conflict (id) do update set siren = excluded.siren, name = excluded.name, type = excluded.type,
               departement_code = excluded.departement_code, location = excluded.location;

        update subj set method = 'unmatched',
               evidence = case
                 when subject_type = 'DEP' then format('département « %s » introuvable dans le référentiel (code %s)', subject_name, coalesce(subject_departement, 'absent'))
                 when subject_type = 'REG' then format('région « %s » introuvable dans le référentiel (code %s)', subject_name, coalesce(subject_region, 'absent'))
                 when siren_conflict is not null then siren_conflict || ' ; aucune commune unique de ce nom dans ce département ni à cette position'
                 else format('SIREN %s absent du référentiel, aucune ancienne commune ni commune de ce nom dans le département %s, %s',
                             subject_siren, coalesce(subject_departement, '(non renseigné)'),
                             case when location is null then 'pas de position' else 'position hors de toute collectivité de ce type' end) end
         where method is null;

        update observation o set collectivite_id = s.collectivite_id, associated_actor_id = s.actor_id,
               match_method = s.method, match_evidence = s.evidence
          from subj s
         where s.subject_key = o.subject_key
           -- the subjects' keys as an array: an index probe each, where a join walked the whole index of
           -- observation in key order (2.5 s with ten years of history for a thousand subjects)
           and o.subject_key = any(array(select subject_key from subj))
           and (o.collectivite_id, o.associated_actor_id, o.match_method, o.match_evidence)
               is distinct from (s.collectivite_id, s.actor_id, s.method, s.evidence);

        delete from associated_actor a where not exists (select 1 from subj s where s.actor_id = a.id);
        drop table subj;

        -- data.gouv.fr harvest rows (Status/DataGouvHarvest.cs) are matched by their SIREN alone: again
        -- here, so a reference re-import (a SIREN retired by a merger) leaves none pointing at a stale row.
        update observation o set collectivite_id = c.id
          from (select o2.id as obs_id, (select c2.id from collectivite c2 where c2.siren = o2.subject_siren order by c2.id limit 1) as id
                  from observation o2 where o2.source like 'datagouv-%') c
         where o.id = c.obs_id and o.collectivite_id is distinct from c.id;
        """;
}
