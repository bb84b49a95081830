using System.Data;
using Npgsql;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.Search;

/// <summary>
/// <c>GET /api/search?q=</c>: the ten best collectivités for a name, an INSEE code or a SIREN.
/// Names are compared through <c>search_key()</c> (lower case, accents dropped, hyphens and
/// apostrophes as spaces), so "saint etienne" finds Saint-Étienne. Order: exact code or SIREN, exact
/// name, name starting with the query, a word of the name starting with it; then larger populations
/// first. Each result carries its label point and bbox so the map can fly to it.
/// </summary>
public static class SearchEndpoints
{
    public const int MaxResults = 10;
    public const int MaxQueryLength = 100;

    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/search", Handle).CacheOutput(MapCache.Policy).WithName("Search");
        return app;
    }

    static async Task<IResult> Handle(string? q, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        q = q?.Trim();
        if (string.IsNullOrEmpty(q))
            return Problems.Of(400, "Recherche vide", "Ajoutez q=… : un nom (ex. saint etienne), un code INSEE (35238) ou un SIREN (213502388).");
        if (q.Length > MaxQueryLength)
            return Problems.Of(400, "Recherche trop longue", $"La recherche est limitée à {MaxQueryLength} caractères.");
        if (await MapCache.NotModifiedAsync(http, ct)) return Results.Empty;

        // The word-prefix test ("% key%") reads the whole narrow table (~36,000 rows, a few ms): no
        // trigram index is needed at this size.
        await using var cmd = db.CreateCommand("""
            with k as (select search_key(@q) as key, upper(replace(@q, ' ', '')) as code),
            hits as (
                select c.id, c.code, c.siren, c.type, c.name, c.departement_code, c.population, c.is_open, c.is_obliged,
                       case when c.code = k.code or c.siren = k.code then 0
                            when c.search_name = k.key then 1
                            when c.search_name like k.key || '%' then 2
                            else 3 end as rank
                  from collectivite c cross join k
                 where c.code = k.code or c.siren = k.code
                    or (k.key <> '' and (c.search_name like k.key || '%' or c.search_name like '% ' || k.key || '%'))
                 order by rank, c.population desc nulls last, c.name
                 limit @limit)
            select coalesce(json_agg(json_build_object(
                       'id', h.id, 'code', h.code, 'siren', h.siren, 'type', h.type, 'name', h.name,
                       'departement', h.departement_code, 'departementName', d.name, 'population', h.population,
                       'open', h.is_open, 'obliged', h.is_obliged,
                       'label', case when g.label_point is not null then json_build_array(round(ST_X(g.label_point)::numeric, 5), round(ST_Y(g.label_point)::numeric, 5)) end,
                       'bbox', case when g.geom is not null then json_build_array(round(ST_XMin(g.geom)::numeric, 5), round(ST_YMin(g.geom)::numeric, 5),
                                                                                   round(ST_XMax(g.geom)::numeric, 5), round(ST_YMax(g.geom)::numeric, 5)) end)
                   order by h.rank, h.population desc nulls last, h.name), '[]'::json)::text
              from hits h
              left join collectivite_geometry g on g.collectivite_id = h.id
              left join collectivite d on d.type = 'DEP' and d.code = h.departement_code
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string>("q", q));
        cmd.Parameters.Add(new NpgsqlParameter<int>("limit", MaxResults));
        await using var rd = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        await rd.ReadAsync(ct);
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync("{\"results\":", ct);
        await using (var s = rd.GetStream(0)) await s.CopyToAsync(http.Response.Body, ct);
        await http.Response.WriteAsync("}", ct);
        return Results.Empty;
    }
}
