using System.Data;
using System.Text.RegularExpressions;
using Npgsql;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.Collectivites;

/// <summary>
/// <c>GET /api/collectivites/{id}</c> (id as in the table: COM-35238, EPCI-243500139, DEP-35, REG-53…):
/// what the map's card shows for a selection. Figures of the collectivité; its parents (département,
/// région, EPCI, EPT); its status history (every observation, oldest first); the platforms hosting it
/// with their links; the ATD covering it; for an area, the counts over the collectivités it holds
/// (same rule as <c>/api/geo/{level}</c>); its label point and bbox; whether and why it is obliged
/// (<c>obligation</c>, French, from the SQL function <c>obligation</c>). <c>firstSeenOpen</c> is the first
/// observation showing it open, not the day it opened. With <c>date=YYYY-MM-DD</c>, <c>onDate</c> gives its
/// status on that day (<c>status_on</c>). One SQL statement builds the JSON.
/// </summary>
public static partial class CollectiviteCardEndpoints
{
    [GeneratedRegex("^[A-Z]{3,5}-[0-9A-Za-z]{1,12}$")] private static partial Regex IdPattern();

    public static IEndpointRouteBuilder MapCollectiviteCards(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/collectivites/{id}", Handle).CacheOutput(MapCache.Policy).WithName("CollectiviteCard");
        return app;
    }

    static async Task<IResult> Handle(string id, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!IdPattern().IsMatch(id))
            return Problems.Of(400, "Identifiant invalide",
                "L'identifiant attend la forme TYPE-CODE : COM-35238 (commune), EPCI-243500139, EPT-200057867, DEP-35, REG-53.");
        var p = new QueryParameters(http.Request.Query);
        var date = p.Date();
        if (!p.IsValid) return p.Problem();
        if (await MapCache.NotModifiedAsync(http, ct)) return Results.Empty;

        await using var cmd = db.CreateCommand("""
            select json_build_object(
                'id', c.id, 'code', c.code, 'siren', c.siren, 'type', c.type, 'name', c.name, 'zone', c.zone,
                'population', c.population, 'band', c.population_band, 'obliged', c.is_obliged, 'staff', c.staff,
                -- Whether and why it is obliged, in French (the one rule: SQL function obligation).
                'obligation', (select o.reason from obligation(c.type, c.population, c.staff, c.is_overseas_collectivity,
                                   lm.body_id, lm.body_name) o),
                'legalBody', c.legal_body_id,
                'lastObservation', last_observation(),
                'open', c.is_open, 'firstSeenOpen', c.first_seen_open, 'datasets', c.dataset_count,
                'lastObservedOn', c.last_observed_on, 'atdCount', c.atd_count, 'memberCount', c.member_count,
                'departement', (select json_build_object('id', d.id, 'code', d.code, 'name', d.name)
                                  from collectivite d where d.type = 'DEP' and d.code = c.departement_code and c.type not in ('DEP', 'REG')),
                'region', (select json_build_object('id', r.id, 'code', r.code, 'name', r.name)
                             from collectivite r where r.type = 'REG' and r.code = c.region_code and c.type <> 'REG'),
                'epci', (select json_build_object('id', e.id, 'siren', e.siren, 'type', e.type, 'name', e.name, 'open', e.is_open)
                           from collectivite e where e.siren = c.epci_siren and e.type = any(epci_types())),
                'ept', (select json_build_object('id', e.id, 'siren', e.siren, 'type', e.type, 'name', e.name, 'open', e.is_open)
                          from collectivite e where e.siren = c.ept_siren and e.type = 'EPT'),
                -- Only http(s) URLs go into the card: the page writes them into links (issue #14).
                'history', coalesce((select json_agg(json_build_object(
                                  'id', o.id, 'date', o.observed_on, 'open', o.is_listed, 'source', o.source,
                                  'note', o.note, 'recordedBy', o.contributor, 'supersededBy', o.superseded_by,
                                  -- The observation that decides the status shown (on the date asked, else today): sources can disagree.
                                  'decides', o.id = decisive_observation(c.id, coalesce(@date::date, 'infinity'::date)),
                                  'datasetsLocal', o.datasets_local, 'datasetsDatagouv', o.datasets_datagouv,
                                  'platforms', o.platforms, 'url', case when o.url ~* '^https?://[^\s]+$' then o.url end) order by o.observed_on, o.source, o.id)
                              from observation o where o.collectivite_id = c.id), '[]'::json),
                'platforms', coalesce((select json_agg(json_build_object(
                                  'id', p.id, 'name', p.name, 'url', case when p.url ~* '^https?://[^\s]+$' then p.url end, 'type', p.type,
                                  'mode', p.collaboration_mode, 'technology', p.technology) order by p.name)
                              from platform p where c.siren is not null and c.siren::text = any(p.hosted_sirens)), '[]'::json),
                'atd', coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name, 'kind', t.kind, 'scale', t.scale) order by t.name)
                              from atd_coverage ac join atd t on t.id = ac.atd_id where ac.collectivite_id = c.id), '[]'::json),
                'members', case when c.type not in ('COM', 'COLOM') then (
                              select json_build_object('count', count(*), 'open', count(*) filter (where m.is_open),
                                     'obliged', count(*) filter (where m.is_obliged),
                                     'obligedOpen', count(*) filter (where m.is_open and m.is_obliged))
                                from collectivite m
                               where case c.type when 'REG' then m.region_code = c.code and m.type <> 'COLOM'
                                                 when 'DEP' then m.departement_code = c.code and m.type not in ('REG', 'COLOM')
                                                 else m.epci_siren = c.siren or m.ept_siren = c.siren or m.id = c.id end) end,
                'onDate', case when @date::date is not null then (
                              select json_build_object('date', @date::date, 'open', s.is_open, 'datasets', s.dataset_count, 'firstSeenOpen', s.first_seen_open)
                                from status_on(@date::date) s where s.collectivite_id = c.id) end,
                'label', case when g.label_point is not null then json_build_array(round(ST_X(g.label_point)::numeric, 5), round(ST_Y(g.label_point)::numeric, 5)) end,
                'bbox', case when g.geom is not null then json_build_array(round(ST_XMin(g.geom)::numeric, 5), round(ST_YMin(g.geom)::numeric, 5),
                                                                            round(ST_XMax(g.geom)::numeric, 5), round(ST_YMax(g.geom)::numeric, 5)) end
            )::text
              from collectivite c
              left join collectivite_geometry g on g.collectivite_id = c.id
              left join legal_body_merge lm on lm.collectivite_id = c.id
             where c.id = @id
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string>("id", id));
        cmd.Parameters.Add(new NpgsqlParameter("date", NpgsqlTypes.NpgsqlDbType.Date) { Value = date is { } v ? v : DBNull.Value });
        await using var rd = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        if (!await rd.ReadAsync(ct))
        {
            http.Response.Headers.Remove("ETag");
            return Problems.Of(404, "Collectivité inconnue", $"Aucune collectivité « {id} » dans le référentiel (COG 2026).");
        }
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var s = rd.GetStream(0);
        await s.CopyToAsync(http.Response.Body, ct);
        return Results.Empty;
    }
}
