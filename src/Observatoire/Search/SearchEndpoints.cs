using System.Data;
using Npgsql;
using Observatoire.Api;
using Observatoire.Map;

namespace Observatoire.Search;

/// <summary>
/// <c>GET /api/search?q=</c>: the ten best collectivités and ATD for a name, an INSEE code or a SIREN.
/// Names are compared through <c>search_key()</c> (lower case, accents dropped, hyphens and
/// apostrophes as spaces), so "saint etienne" finds Saint-Étienne, and by trigram similarity
/// (pg_trgm, migration 010), so a typo still finds the place: "renes" finds Rennes. Order: exact code
/// or SIREN, exact name, name starting with the query or close to it (similarity ≥ 0.5), a word of
/// the name starting with it, other close names; then larger populations first, so Enter on "renes"
/// opens Rennes rather than Renescure. ATD come as type <c>ATD</c>, id <c>ATD-{atd id}</c>, without
/// population. Each result carries its label point and bbox so the map can fly to it.
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

        // Candidates come from index scans only (code, SIREN, and the trigram index of migration 010 for
        // the substring and similarity tests), then are ranked; an OR of these tests would read the
        // whole table and compute word similarity on every row (~100 times slower).
        var code = q.Replace(" ", "").ToUpperInvariant();
        await using var cmd = db.CreateCommand("""
            with cand as (
                select id from collectivite where code = @code
                union select id from collectivite where siren = @siren::bpchar
                union select id from collectivite where @key <> '' and search_name like '%' || @key || '%'
                union select id from collectivite where search_name % @key
                union select id from collectivite where @key <% search_name),
            hits as (
                select c.id, c.code, c.siren, c.type, c.name, c.departement_code, c.population, c.is_open, c.is_obliged,
                       case when c.code = @code or c.siren = @siren::bpchar then 0
                            when c.search_name = k.key then 1
                            when c.search_name like k.key || '%' or similarity(c.search_name, k.key) >= 0.5 then 2
                            when c.search_name like '% ' || k.key || '%' then 3
                            else 4 end as rank,
                       g.label_point, g.geom as box
                  from cand join collectivite c using (id) cross join (select @key as key) k
                  left join collectivite_geometry g on g.collectivite_id = c.id
                union all
                select 'ATD-' || a.id, a.id, a.siren, 'ATD', a.name, null, null, null, null,
                       case when a.key = @key then 1
                            when a.key like @key || '%' or similarity(a.key, @key) >= 0.5 then 2
                            when a.key like '% ' || @key || '%' then 3
                            else 4 end,
                       ST_PointOnSurface(a.perimeter), a.perimeter
                  from (select atd.*, search_key(atd.name) as key from atd) a
                 where @key <> '' and (a.key like '%' || @key || '%' or a.key % @key or @key <% a.key)),
            best as (select * from hits order by rank, population desc nulls last, name limit @limit)
            select coalesce(json_agg(json_build_object(
                       'id', h.id, 'code', h.code, 'siren', h.siren, 'type', h.type, 'name', h.name,
                       'departement', h.departement_code, 'departementName', d.name, 'population', h.population,
                       'open', h.is_open, 'obliged', h.is_obliged,
                       'label', case when h.label_point is not null then json_build_array(round(ST_X(h.label_point)::numeric, 5), round(ST_Y(h.label_point)::numeric, 5)) end,
                       'bbox', case when h.box is not null then json_build_array(round(ST_XMin(h.box)::numeric, 5), round(ST_YMin(h.box)::numeric, 5),
                                                                                  round(ST_XMax(h.box)::numeric, 5), round(ST_YMax(h.box)::numeric, 5)) end)
                   order by h.rank, h.population desc nulls last, h.name), '[]'::json)::text
              from best h
              left join collectivite d on d.type = 'DEP' and d.code = h.departement_code
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string>("q", q));
        cmd.Parameters.Add(new NpgsqlParameter<string>("code", code));
        // The C# twin of SQL search_key(): a constant for the planner, so the trigram index serves it.
        cmd.Parameters.Add(new NpgsqlParameter<string>("key", Observatoire.OData.CollectiviteSearchBinder.Key(q)));
        cmd.Parameters.Add(new NpgsqlParameter("siren", NpgsqlTypes.NpgsqlDbType.Text) { Value = code.Length == 9 && code.All(char.IsAsciiDigit) ? code : DBNull.Value });
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
