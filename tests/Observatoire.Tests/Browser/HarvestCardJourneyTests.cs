using Observatoire.Import;
using Observatoire.Status;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// A mayor's office after a data.gouv.fr harvest (issue #17): the card shows both sources and says which
/// one decides. The sample export (Status/TestData) is imported on a database of its own; the
/// collectivité it lists with 0 datasets stays open (the directory decides: « aucun jeu sur data.gouv.fr »
/// does not close it), the one the directory never listed is open by the harvest.
/// </summary>
public sealed class HarvestCardJourneyTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>, IAsyncLifetime
{
    MapSite site = null!;
    readonly List<string> problems = [];

    public async Task InitializeAsync()
    {
        var file = Path.Combine(TestEnvironment.RepoRoot, "tests", "Observatoire.Tests", "Status", "TestData", "datagouv-organisations-2022-11-15.csv");
        await new DataGouvHarvest(db.DataSource, TextWriter.Null) { Guards = new ImportGuardOptions { AcceptLargeChange = true } }
            .ImportAsync(file, new DateOnly(2022, 11, 15));
        site = await db.SiteAsync();
    }

    public async Task DisposeAsync() => await site.CloseContextsAsync();

    [Fact]
    public async Task The_card_shows_both_sources_and_which_decides()
    {
        // From the stored rows: the harvest's 0-dataset row, and a collectivité only the harvest shows open.
        var zero = await db.ScalarAsync<string>("select collectivite_id from observation where source = 'datagouv-2022-11-15' and datasets_datagouv = 0");
        var onlyHarvest = await db.ScalarAsync<string>("""
            select o.collectivite_id from observation o where o.source = 'datagouv-2022-11-15' and o.is_listed
               and not exists (select 1 from observation d where d.collectivite_id = o.collectivite_id and d.source like 'odf-%')
            """);

        var page = await site.OpenAsync(problems, "#sel=" + zero);
        await page.WaitForSelectorAsync("#card:not([hidden]) #history");
        var rows = await page.Locator("#history tbody tr").AllInnerTextsAsync();
        Assert.Contains(rows, r => r.Contains("aucun jeu sur data.gouv.fr") && r.Contains("data.gouv.fr (moissonnage)") && !r.Contains("décide"));
        Assert.Contains("annuaire OpenDataFrance", Assert.Single(rows, r => r.Contains("décide du statut")));
        await MapSite.ScreenshotAsync(page, "moissonnage-fiche.png");

        page = await site.OpenAsync(problems, "#sel=" + onlyHarvest);
        await page.WaitForSelectorAsync("#card:not([hidden]) #history");
        var only = Assert.Single(await page.Locator("#history tbody tr").AllInnerTextsAsync());
        Assert.Contains("publie sur data.gouv.fr", only);
        Assert.Contains("décide du statut", only);
        Assert.Empty(await MapSite.AxeViolationsAsync(page));
        Assert.Empty(problems);
    }
}
