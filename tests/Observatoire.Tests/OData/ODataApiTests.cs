using System.Text.Json;
using Microsoft.OData.Edm;
using Microsoft.OData.Edm.Validation;
using Microsoft.OData.Edm.Vocabularies;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.OData;

/// <summary>The OData API against the loaded real data; expected answers from the raw COG files or plain SQL.</summary>
public sealed class ODataApiTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    ODataTestClient Client() => new(db.App.CreateClient());

    // The observatoire's bands, written here from their definition (domain.md), not taken from the app.
    static string Band(int p) => p switch
    {
        >= 100_000 => ">=100000",
        >= 50_000 => "50000-99999",
        >= 20_000 => "20000-49999",
        >= 10_000 => "10000-19999",
        >= 3_500 => "3500-9999",
        >= 2_000 => "2000-3499",
        >= 500 => "500-1999",
        _ => "<500",
    };

    [Fact]
    public async Task Metadata_is_valid_CSDL_with_the_entity_sets_descriptions_and_the_capabilities_it_honours()
    {
        var m = await Client().ModelAsync();
        Assert.True(m.Validate(out var errors), string.Join("; ", errors.Select(e => e.ErrorMessage)));
        var sets = m.EntityContainer.EntitySets().Select(s => s.Name).ToHashSet();
        foreach (var s in new[] { "Collectivites", "Observations", "Platforms", "Atds", "AssociatedActors", "Milestones" })
            Assert.Contains(s, sets);

        var c = m.EntityContainer.FindEntitySet("Collectivites")!.EntityType;
        foreach (var p in new[] { "Siren", "Code", "Type", "Name", "Population", "PopulationBand", "DepartementCode", "RegionCode",
                                  "EpciSiren", "IsObliged", "IsOpen", "FirstSeenOpen", "DatasetCount", "AtdCount" })
        {
            var prop = c.FindProperty(p);
            Assert.NotNull(prop);
            Assert.False(string.IsNullOrWhiteSpace(m.GetDescriptionAnnotation(prop)), $"Core.Description manquante sur {p}");
        }
        Assert.Equal(EdmPrimitiveTypeKind.String, c.FindProperty("Id")!.Type.PrimitiveKind());
        Assert.Equal("Id", c.Key().Single().Name);
        Assert.DoesNotContain(c.StructuralProperties(), p => p.Name.Contains("geom", StringComparison.OrdinalIgnoreCase));
        foreach (var nav in new[] { "Epci", "Departement", "Region", "Observations", "Atds" })
            Assert.NotNull(c.FindProperty(nav) as IEdmNavigationProperty);
        Assert.NotNull(m.EntityContainer.FindEntitySet("Atds")!.EntityType.FindProperty("Collectivites") as IEdmNavigationProperty);
        Assert.False(string.IsNullOrWhiteSpace(m.GetDescriptionAnnotation(m.EntityContainer.FindEntitySet("Collectivites"))));

        // Only what holds: read-only, no $batch, $search on Collectivites only, $expand two levels deep.
        Assert.Contains(m.GetEdmReferences(), r => r.Includes.Any(i => i.Namespace == "Org.OData.Core.V1"));
        Assert.Contains(m.GetEdmReferences(), r => r.Includes.Any(i => i.Namespace == "Org.OData.Capabilities.V1"));
        IEdmExpression? Term(IEdmVocabularyAnnotatable target, string term) => m.FindVocabularyAnnotations(target)
            .SingleOrDefault(a => a.Term.FullName() == "Org.OData.Capabilities.V1." + term)?.Value;
        object? Field(IEdmExpression? record, string name) => (record as IEdmRecordExpression)?.FindProperty(name)?.Value switch
        {
            IEdmBooleanConstantExpression b => b.Value,
            IEdmIntegerConstantExpression i => i.Value,
            _ => null,
        };
        Assert.Null(Term(m.EntityContainer, "AsynchronousRequestsSupported")); // Prefer: respond-async is not honoured
        Assert.True(Term(m.EntityContainer, "BatchSupported") is IEdmBooleanConstantExpression { Value: false });
        foreach (var set in m.EntityContainer.EntitySets())
        {
            Assert.Equal(true, Field(Term(set, "CountRestrictions"), "Countable"));
            Assert.Equal(true, Field(Term(set, "FilterRestrictions"), "Filterable"));
            Assert.Equal(true, Field(Term(set, "SortRestrictions"), "Sortable"));
            Assert.True(Term(set, "TopSupported") is IEdmBooleanConstantExpression { Value: true });
            Assert.True(Term(set, "SkipSupported") is IEdmBooleanConstantExpression { Value: true });
            Assert.Equal(set.Name == "Collectivites", Field(Term(set, "SearchRestrictions"), "Searchable"));
            Assert.Equal(2L, Field(Term(set, "ExpandRestrictions"), "MaxLevels"));
            Assert.Equal(false, Field(Term(set, "InsertRestrictions"), "Insertable"));
            // What is declared holds: $search answers 200 where Searchable, 400 elsewhere (the audit log
            // answers 401 first: administrators only).
            var (status, _, _) = await Client().GetJsonAsync($"/odata/{set.Name}?$search=rennes&$top=1");
            Assert.Equal(set.Name switch { "Collectivites" => 200, "AuditEntries" => 401, _ => 400 }, status);
        }
        Assert.NotNull(m.EntityContainer.FindOperationImports("StatusOn").SingleOrDefault());
    }

    [Fact]
    public async Task Counts_by_type_match_the_reference_files()
    {
        static string Map(string t) => t is "METRO" or "MET69" ? "MET" : t;
        var expected = new Dictionary<string, long>
        {
            ["COM"] = RawCog.CurrentCommunes.Count(),
            ["EPT"] = RawCog.Ept.Count,
            ["DEP"] = RawCog.Departements.Count(d => (string?)d!["zone"] != "com"),
            ["REG"] = RawCog.Regions.Count(r => (string?)r!["zone"] != "com"),
        };
        foreach (var g in RawCog.Epci.GroupBy(e => Map((string)e!["type"]!))) expected[g.Key] = g.Count();

        var client = Client();
        var (_, json, text) = await client.GetJsonAsync(Url.Of("Collectivites", ("$apply", "groupby((Type),aggregate($count as N))")));
        var actual = json.GetProperty("value").EnumerateArray().ToDictionary(r => r.GetProperty("Type").GetString()!, r => r.GetProperty("N").GetInt64());
        foreach (var (type, n) in expected) Assert.True(actual.TryGetValue(type, out var a) && a == n, $"{type}: attendu {n}, lu {text}");

        // The same through $filter + $count, read with ODataMessageReader.
        foreach (var (type, n) in expected)
        {
            var page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", $"Type eq '{type}'"), ("$count", "true"), ("$top", "1"), ("$select", "Id")), "Collectivites");
            Assert.Equal(n, page.Count); // $top does not change $count (WebApi #1879)
            Assert.Single(page.Rows);
        }
        Assert.Equal(expected["DEP"], long.Parse(await client.Http.GetStringAsync(Url.Of("Collectivites/$count", ("$filter", "Type eq 'DEP'")))));
    }

    [Fact]
    public async Task Communes_by_band_and_obliged_by_band_match_the_reference_files()
    {
        var communes = RawCog.CurrentCommunes.Where(c => c["population"] is not null).ToList();
        var expected = communes.GroupBy(c => Band((int)c["population"]!))
            .ToDictionary(g => g.Key, g => (N: (long)g.Count(), Pop: g.Sum(c => (long)(int)c["population"]!),
                Obliged: (long)g.Count(c => (int)c["population"]! >= 3500 && (string?)c["zone"] != "com")));

        var (status, json, text) = await Client().GetJsonAsync(Url.Of("Collectivites", ("$apply",
            "filter(Type eq 'COM' and Population ne null)/groupby((PopulationBand),aggregate($count as N, Population with sum as Pop, ObligedFlag with sum as Obliged, Population with max as Largest, Population with min as Smallest, DepartementCode with countdistinct as Deps))")));
        Assert.True(status == 200, text);
        var rows = json.GetProperty("value").EnumerateArray().ToList();
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var band = r.GetProperty("PopulationBand").GetString()!;
            var e = expected[band];
            Assert.Equal(e.N, r.GetProperty("N").GetInt64());
            Assert.Equal(e.Pop, r.GetProperty("Pop").GetInt64());
            // Staff is not in the COG: every commune of ≥ 3,500 inhabitants is obliged (domain.md), outside
            // the collectivités d'outre-mer (docs/status.md).
            Assert.Equal(e.Obliged, r.GetProperty("Obliged").GetInt64());
            var inBand = communes.Where(c => Band((int)c["population"]!) == band).ToList();
            Assert.Equal(inBand.Max(c => (int)c["population"]!), r.GetProperty("Largest").GetInt64());
            Assert.Equal(inBand.Min(c => (int)c["population"]!), r.GetProperty("Smallest").GetInt64());
            Assert.Equal(inBand.Select(c => (string)c["departement"]!).Distinct().Count(), r.GetProperty("Deps").GetInt64());
        }
    }

    [Fact]
    public async Task Paging_through_every_commune_with_nextLink_yields_each_exactly_once()
    {
        var (rows, pages) = await Client().GetAllAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM'"), ("$select", "Id,Code")), "Collectivites");
        var expected = RawCog.CurrentCommunes.Select(c => (string)c["code"]!).Order(StringComparer.Ordinal).ToList();
        var codes = rows.Select(r => (string)r["Code"]!).ToList();
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.Equal(expected, codes.Order(StringComparer.Ordinal).ToList());
        Assert.Equal((expected.Count + 999) / 1000, pages); // the page size bounds every response
    }

    [Fact]
    public async Task Apply_with_orderby_top_and_server_paging_gives_the_reference_answers()
    {
        var client = Client();
        var byDep = RawCog.CurrentCommunes.GroupBy(c => (string)c["departement"]!).ToDictionary(g => g.Key, g => (long)g.Count());

        // $apply + $orderby + $top (AspNetCoreOData #420, #478)
        var (_, json, text) = await client.GetJsonAsync(Url.Of("Collectivites", ("$apply", "filter(Type eq 'COM')/groupby((DepartementCode),aggregate($count as N))"), ("$orderby", "N desc,DepartementCode"), ("$top", "5")));
        var top5 = json.GetProperty("value").EnumerateArray().Select(r => (r.GetProperty("DepartementCode").GetString()!, r.GetProperty("N").GetInt64())).ToList();
        Assert.Equal(byDep.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Take(5).Select(x => (x.Key, x.Value)).ToList(), top5);

        // $apply producing more groups than a page (AspNetCoreOData #918): nextLink, and every group once.
        var names = new Dictionary<string, long>();
        var pages = 0;
        for (string? next = Url.Of("Collectivites", ("$apply", "filter(Type eq 'COM')/groupby((Name),aggregate($count as N))")); next is not null; pages++)
        {
            var (status, j, t) = await client.GetJsonAsync(next);
            Assert.True(status == 200, t);
            foreach (var r in j.GetProperty("value").EnumerateArray()) names.Add(r.GetProperty("Name").GetString()!, r.GetProperty("N").GetInt64());
            next = j.TryGetProperty("@odata.nextLink", out var nl) ? new Uri(nl.GetString()!).PathAndQuery : null;
        }
        var expectedNames = RawCog.CurrentCommunes.GroupBy(c => (string)c["nom"]!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.True(pages > 1);
        Assert.Equal(expectedNames.Count, names.Count);
        Assert.All(expectedNames, e => Assert.Equal(e.Value, names[e.Key]));

        // compute, then aggregate on the computed column.
        (_, json, text) = await client.GetJsonAsync(Url.Of("Collectivites", ("$apply", "filter(Type eq 'COM' and DepartementCode eq '35')/compute(Population mul 2 as Double)/aggregate(Double with sum as S)")));
        var pop35 = RawCog.CurrentCommunes.Where(c => (string)c["departement"]! == "35").Sum(c => (long?)(int?)c["population"] ?? 0);
        Assert.True(json.GetProperty("value")[0].GetProperty("S").GetInt64() == 2 * pop35, text);
    }

    [Fact]
    public async Task Filters_select_orderby_search_and_expand_answer_like_the_reference()
    {
        var client = Client();
        var raw = RawCog.CurrentCommunes.Where(c => (string)c["departement"]! is "35" or "22" && (int?)c["population"] >= 10_000).ToList();
        var page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM' and DepartementCode in ('35','22') and Population ge 10000"),
            ("$select", "Code,Name,Population"), ("$orderby", "Population desc"), ("$count", "true")), "Collectivites");
        Assert.Equal(raw.Count, page.Count);
        Assert.Equal(raw.OrderByDescending(c => (int)c["population"]!).Select(c => (string)c["code"]!).ToList(), page.Rows.Select(r => (string)r["Code"]!).ToList());

        page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM' and startswith(Name,'Saint-Malo') and contains(tolower(Name),'malo')"), ("$count", "true")), "Collectivites");
        Assert.Equal(RawCog.CurrentCommunes.Count(c => ((string)c["nom"]!).StartsWith("Saint-Malo", StringComparison.Ordinal)), page.Count);

        // $search: accent- and case-insensitive words of the name (search_name, computed by SQL search_key).
        page = await client.GetPageAsync(Url.Of("Collectivites", ("$search", "SAINT malô"), ("$count", "true"), ("$select", "Id")), "Collectivites");
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from collectivite where search_key(name) like '%saint%' and search_key(name) like '%malo%'"), page.Count);

        var rennes = RawCog.CurrentCommunes.Single(c => (string)c["code"]! == "35238");
        var epci = RawCog.Epci.Single(e => e!["membres"]!.AsArray().Any(m => (string?)m!["code"] == "35238"))!;
        var (status, json, text) = await client.GetJsonAsync(Url.Of("Collectivites('COM-35238')", ("$expand", "Epci($select=Name,Siren),Departement($select=Name),Region($select=Name,Code)")));
        Assert.True(status == 200, text);
        Assert.Equal((string)epci["nom"]!, json.GetProperty("Epci").GetProperty("Name").GetString());
        Assert.Equal(RawCog.Departements.Single(d => (string)d!["code"]! == "35")!["nom"]!.GetValue<string>(), json.GetProperty("Departement").GetProperty("Name").GetString());
        Assert.Equal((string)rennes["region"]!, json.GetProperty("Region").GetProperty("Code").GetString());

        // An EPCI's members through the inverse navigation.
        (status, json, text) = await client.GetJsonAsync(Url.Of($"Collectivites('EPCI-{(string)epci["code"]!}')", ("$expand", "Members($select=Code;$count=true;$top=1)")));
        Assert.True(status == 200, text);
        Assert.Equal(epci["membres"]!.AsArray().Count, json.GetProperty("Members@odata.count").GetInt64());
    }

    [Fact]
    public async Task Open_among_obliged_by_region_on_2022_10_19_equals_the_observations_in_SQL()
    {
        // Expected from the observation table and the status rule, in plain SQL (not status_on): the
        // latest observation on or before the date decides; none = not open.
        var expected = (await db.RowsAsync("""
            with latest as (
                select distinct on (collectivite_id) collectivite_id, is_listed from observation
                 where collectivite_id is not null and observed_on <= date '2022-10-19'
                 order by collectivite_id, observed_on desc, is_listed desc)
            select c.region_code, count(*), count(*) filter (where l.is_listed)
              from collectivite c left join latest l on l.collectivite_id = c.id
             where c.is_obliged and c.region_code is not null
             group by 1
            """)).ToDictionary(r => (string)r[0]!, r => ((long)r[1]!, (long)r[2]!));
        Assert.NotEmpty(expected);

        var (status, json, text) = await Client().GetJsonAsync(Url.Of("StatusOn(Date=2022-10-19)",
            ("$apply", "filter(IsObliged and RegionCode ne null)/groupby((RegionCode),aggregate($count as Obliged, ObligedOpenFlag with sum as Open))")));
        Assert.True(status == 200, text);
        var actual = json.GetProperty("value").EnumerateArray()
            .ToDictionary(r => r.GetProperty("RegionCode").GetString()!, r => (r.GetProperty("Obliged").GetInt64(), r.GetProperty("Open").GetInt64()));
        Assert.Equal(expected.OrderBy(x => x.Key, StringComparer.Ordinal), actual.OrderBy(x => x.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_apply_request_is_one_SQL_statement_with_the_grouping_in_the_database()
    {
        using var trips = new RoundTrips();
        await using var app = trips.On(db);
        var client = new ODataTestClient(app.CreateClient());
        var (status, _, text) = await client.GetJsonAsync(Url.Of("Collectivites", ("$apply", "filter(Type eq 'COM')/groupby((RegionCode,PopulationBand),aggregate(ObligedOpenFlag with sum as Open, ObligedFlag with sum as Obliged, OpenFlag with average as Rate))"), ("$orderby", "RegionCode"), ("$top", "20")));
        Assert.True(status == 200, text);
        var sql = Assert.Single(trips.Sent);
        Assert.Contains("GROUP BY", sql);
        Assert.Contains("sum(", sql);
        Assert.DoesNotContain("geom", sql);

        // A plain page and its $count: two statements, sent together in one round trip.
        trips.Clear();
        var page = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM' and PopulationBand eq '3500-9999'"), ("$top", "100"), ("$count", "true")), "Collectivites");
        Assert.Equal(100, page.Rows.Count);
        var batch = Assert.Single(trips.Sent);
        Assert.Contains("count(*)", batch);
        Assert.Contains("LIMIT", batch);
        Assert.DoesNotContain("geom", batch);
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and population_band = '3500-9999'"), page.Count);

        // A page past the end still carries the count, from the same round trip.
        trips.Clear();
        var past = await client.GetPageAsync(Url.Of("Collectivites", ("$filter", "Type eq 'COM' and PopulationBand eq '3500-9999'"), ("$skip", "5000"), ("$count", "true")), "Collectivites");
        Assert.Empty(past.Rows);
        Assert.Equal(page.Count, past.Count);
        Assert.Single(trips.Sent);
    }
}
