using Npgsql;

namespace Observatoire.Atds;

/// <summary>
/// Recomputes, in the caller's transaction, each ATD's own collectivité, perimeter geometry, coverage and
/// the collectivités' <c>atd_count</c>. Called after an ATD import and after a reference or status import.
/// <para>
/// Coverage follows the administrative codes, so it is exact and identical to what a person derives
/// from the list (a commune of an EPCI-level ATD is covered; one outside every perimeter is covered by none):
/// a région perimeter covers the région, its départements, communes and the EPCI/EPT whose main
/// région (where most inhabitants live) it is; a département perimeter likewise with the département;
/// an EPCI perimeter covers the EPCI and its member communes; a commune list covers those communes and
/// the groupements all of whose members are listed; accompanied communes are covered too.
/// </para>
/// <para>
/// The perimeter geometry is the PostGIS union of the perimeter's collectivités at their own level (the
/// région, département, EPCI or commune polygons): it is what the map draws and what spatial questions use
/// (which associated actors lie in a perimeter). It is not used to decide coverage, because the
/// département/région polygons come from a generalised file whose borders do not follow the communes'.
/// </para>
/// </summary>
public static class AtdCoverage
{
    public static async Task RefreshAsync(NpgsqlConnection conn, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand(Sql, conn) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    const string Sql = """
        update atd a set collectivite_id = m.id
          from (select a2.id as atd_id,
                       coalesce((select c.id from collectivite c where a2.siren is not null and c.siren = a2.siren and c.type <> 'COLOM' limit 1),
                                (select c.id from collectivite c where a2.kind = 'region' and a2.perimeter_type = 'region'
                                    and c.type = 'REG' and c.code = a2.perimeter_codes[1] and cardinality(a2.perimeter_codes) = 1),
                                (select c.id from collectivite c where a2.kind = 'departement' and a2.perimeter_type = 'departements'
                                    and c.type = 'DEP' and c.code = a2.perimeter_codes[1] and cardinality(a2.perimeter_codes) = 1),
                                (select c.id from collectivite c where a2.kind = 'commune' and a2.perimeter_type = 'communes'
                                    and c.type = 'COM' and c.code = a2.perimeter_codes[1] and cardinality(a2.perimeter_codes) = 1)) as id
                  from atd a2) m
         where m.atd_id = a.id and a.collectivite_id is distinct from m.id;

        create temp table atd_code on commit drop as
        select a.id as atd_id, a.perimeter_type as kind, unnest(a.perimeter_codes) as code from atd a where a.perimeter_type is not null;

        create temp table new_coverage on commit drop as
        select p.atd_id, c.id as collectivite_id from atd_code p
          join collectivite c on p.kind = 'region' and c.region_code = p.code and c.type <> 'COLOM'
        union
        select p.atd_id, c.id from atd_code p
          join collectivite c on p.kind = 'departements' and c.departement_code = p.code and c.type not in ('REG', 'COLOM')
        union
        select p.atd_id, c.id from atd_code p
          join collectivite c on p.kind = 'epci' and c.type = 'COM' and c.epci_siren = p.code
        union
        select p.atd_id, c.id from atd_code p
          join collectivite c on p.kind = 'epci' and c.type = any(epci_types()) and c.siren = p.code
        union
        select p.atd_id, c.id from atd_code p
          join collectivite c on p.kind = 'communes' and c.type = 'COM' and c.code = p.code
        union
        select ac.atd_id, c.id from accompanied_commune ac join collectivite c on c.type = 'COM' and c.code = ac.insee;

        -- Groupements whose member communes are all covered by the ATD (commune-list perimeters, e.g. GPSO).
        insert into new_coverage
        select n.atd_id, g.id from new_coverage n
          join collectivite m on m.id = n.collectivite_id and m.type = 'COM'
          join collectivite g on (g.type = any(epci_types()) and g.siren = m.epci_siren) or (g.type = 'EPT' and g.siren = m.ept_siren)
         group by n.atd_id, g.id, g.member_count
        having count(*) = g.member_count
        except select atd_id, collectivite_id from new_coverage;

        delete from atd_coverage o where not exists
            (select 1 from new_coverage n where n.atd_id = o.atd_id and n.collectivite_id = o.collectivite_id);
        insert into atd_coverage (atd_id, collectivite_id) select distinct atd_id, collectivite_id from new_coverage
        on conflict do nothing;

        update collectivite c set atd_count = coalesce(n.n, 0)
          from (select c2.id, count(ac.atd_id)::int as n from collectivite c2
                  left join atd_coverage ac on ac.collectivite_id = c2.id group by c2.id) n
         where n.id = c.id and c.atd_count is distinct from coalesce(n.n, 0);

        update atd a set perimeter = g.geom
          from (select p.atd_id, st_multi(st_union(cg.geom)) as geom
                  from atd_code p
                  join collectivite c on (p.kind = 'region' and c.type = 'REG' and c.code = p.code)
                                      or (p.kind = 'departements' and c.type = 'DEP' and c.code = p.code)
                                      or (p.kind = 'epci' and c.type = any(epci_types()) and c.siren = p.code)
                                      or (p.kind = 'communes' and c.type = 'COM' and c.code = p.code)
                  join collectivite_geometry cg on cg.collectivite_id = c.id
                 group by p.atd_id) g
         where g.atd_id = a.id and not (a.perimeter is not null and st_equals(a.perimeter, g.geom));
        update atd a set perimeter = null
         where a.perimeter is not null and not exists (select 1 from atd_code p where p.atd_id = a.id);

        drop table atd_code;
        drop table new_coverage;
        """;
}
