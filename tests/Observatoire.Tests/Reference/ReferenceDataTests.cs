using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

/// <summary>The loaded reference list against the raw COG files (expected values computed here).</summary>
public sealed class ReferenceDataTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    [Fact]
    public async Task Counts_per_level_match_the_reference_files()
    {
        var communes = RawCog.CurrentCommunes.Count();
        var epci = RawCog.Epci.Count;
        var deps = RawCog.Departements.Count(d => (string?)d!["zone"] != "com");
        var regs = RawCog.Regions.Count(r => (string?)r!["zone"] != "com");

        Assert.Equal(communes, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM'"));
        Assert.Equal(epci, await db.ScalarAsync<long>("select count(*) from collectivite where type in ('CC','CA','CU','MET')"));
        Assert.Equal(RawCog.Ept.Count, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'EPT'"));
        Assert.Equal(deps, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'DEP'"));
        Assert.Equal(regs, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'REG'"));
        // The published scale of 2026 (domain.md).
        Assert.Equal((34_969, 1_255, 11, 101, 18), (communes, epci, RawCog.Ept.Count, deps, regs));
    }

    [Fact]
    public async Task Epci_types_follow_the_reference_file()
    {
        static string Map(string t) => t is "METRO" or "MET69" ? "MET" : t;
        var expected = RawCog.Epci.GroupBy(e => Map((string)e!["type"]!)).ToDictionary(g => g.Key, g => (long)g.Count());
        var actual = (await db.RowsAsync("select type, count(*) from collectivite where type in ('CC','CA','CU','MET') group by type"))
            .ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        Assert.Equal(expected.OrderBy(x => x.Key), actual.OrderBy(x => x.Key));
        Assert.Equal(22, actual["MET"]); // 21 métropoles + Métropole de Lyon
    }

    [Fact]
    public async Task Overseas_collectivities_are_kept_flagged_and_outside_the_counts()
    {
        var comZone = RawCog.CurrentCommunes.Count(c => (string?)c["zone"] == "com");
        var colom = RawCog.Departements.Count(d => (string?)d!["zone"] == "com");
        Assert.Equal(comZone, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and is_overseas_collectivity"));
        Assert.Equal(colom, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COLOM' and is_overseas_collectivity"));
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from collectivite where type in ('DEP','REG') and is_overseas_collectivity"));
        // Every commune of the 101 départements has a SIREN; the overseas ones have none in the list.
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and siren is null and not is_overseas_collectivity"));
    }

    [Fact]
    public async Task Rennes_has_its_reference_values()
    {
        var raw = RawCog.CurrentCommunes.Single(c => (string?)c["code"] == "35238");
        var rawEpci = RawCog.Epci.Single(e => e!["membres"]!.AsArray().Any(m => (string?)m!["code"] == "35238"))!;
        var r = (await db.RowsAsync("""
            select siren, population, population_band, departement_code, region_code, epci_siren, type, name, is_obliged
              from collectivite where id = 'COM-35238'
            """)).Single();
        Assert.Equal(((string)raw["siren"]!, (int)raw["population"]!), ((string)r[0]!, (int)r[1]!));
        Assert.Equal(("213502388", 230_890, ">=100000", "35", "53"), ((string)r[0]!, (int)r[1]!, (string)r[2]!, (string)r[3]!, (string)r[4]!));
        Assert.Equal((string)rawEpci["code"]!, ((string)r[5]!).Trim());
        Assert.Equal("243500139", ((string)r[5]!).Trim());
        Assert.Equal("Rennes Métropole", await db.ScalarAsync<string>("select name from collectivite where siren = $1 and type = 'MET'", "243500139"));
        Assert.True((bool)r[8]!);
    }

    [Fact]
    public async Task Each_departement_has_the_commune_count_and_population_of_the_reference_file()
    {
        var expected = RawCog.CurrentCommunes.GroupBy(c => (string)c["departement"]!)
            .ToDictionary(g => g.Key, g => (Count: (long)g.Count(), Pop: g.Sum(c => (long?)(int?)c["population"] ?? 0)));
        var rows = await db.RowsAsync("select code, member_count, population from collectivite where type in ('DEP','COLOM')");
        Assert.Equal(expected.Count, rows.Count);
        foreach (var r in rows)
        {
            var e = expected[(string)r[0]!];
            Assert.Equal(e.Count, (int)r[1]!);
            Assert.Equal(e.Pop, r[2] is null ? 0 : (int)r[2]!);
        }
        // And the communes themselves point to those départements.
        var counted = (await db.RowsAsync("select departement_code, count(*) from collectivite where type = 'COM' group by 1"))
            .ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        Assert.Equal(expected.ToDictionary(x => x.Key, x => x.Value.Count).OrderBy(x => x.Key), counted.OrderBy(x => x.Key));
    }

    [Fact]
    public async Task Region_population_is_the_sum_of_its_communes()
    {
        var expected = RawCog.CurrentCommunes.GroupBy(c => (string)c["region"]!)
            .ToDictionary(g => g.Key, g => g.Sum(c => (long?)(int?)c["population"] ?? 0));
        foreach (var r in await db.RowsAsync("select code, population from collectivite where type = 'REG'"))
            Assert.Equal(expected[(string)r[0]!], (int)r[1]!);
    }

    [Fact]
    public async Task Population_band_and_obligation_are_derived_from_population()
    {
        // Obliged communes: ≥ 3,500 inhabitants (staff unknown everywhere in the reference list), outside the
        // collectivités d'outre-mer (zone com: their statute decides which laws apply, docs/status.md).
        Assert.Equal(3_290, RawCog.CurrentCommunes.Count(c => ((int?)c["population"] ?? 0) >= 3500));   // domain.md
        var obliged = RawCog.CurrentCommunes.Count(c => ((int?)c["population"] ?? 0) >= 3500 && (string?)c["zone"] != "com");
        Assert.Equal(obliged, await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and is_obliged"));
        Assert.Equal(3_254, obliged);
        var wrongBand = await db.ScalarAsync<long>("""
            select count(*) from collectivite where population is not null and population_band is distinct from
              case when population < 500 then '<500' when population < 2000 then '500-1999' when population < 3500 then '2000-3499'
                   when population < 10000 then '3500-9999' when population < 20000 then '10000-19999' when population < 50000 then '20000-49999'
                   when population < 100000 then '50000-99999' else '>=100000' end
            """);
        Assert.Equal(0, wrongBand);
        Assert.Equal(RawCog.CurrentCommunes.Count(c => c["population"] is null),
            await db.ScalarAsync<long>("select count(*) from collectivite where type = 'COM' and population is null"));
    }

    [Fact]
    public async Task Former_communes_are_kept_for_resolving_old_identifiers()
    {
        var delegated = RawCog.Communes.Count(c => (string?)c!["type"] is "commune-deleguee" or "commune-associee");
        var anciens = RawCog.CurrentCommunes.SelectMany(c => c["anciensCodes"]?.AsArray().Select(a => ((string)a!, (string)c["code"]!)) ?? []).Distinct().Count();
        Assert.Equal(delegated, await db.ScalarAsync<long>("select count(*) from former_commune where kind <> 'ancien-code'"));
        Assert.Equal(anciens, await db.ScalarAsync<long>("select count(*) from former_commune where kind = 'ancien-code'"));
        // Search keys drop accents and hyphens: "saint etienne" finds Saint-Étienne.
        Assert.Equal("Saint-Étienne", await db.ScalarAsync<string>("select name from collectivite where type = 'COM' and search_name = search_key('saint etienne')"));
    }
}
