using Microsoft.Playwright;
using Observatoire.Api;
using Observatoire.Contributions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The editor page as its users meet it, in Chromium: an ATD editor pastes its key, picks the first
/// commune of its to-do list, records what it saw, and sees the to-do list, the audit and the map's
/// card change; a visitor without a key sees no form, and a wrong key is told so in French. On a
/// database of its own (it writes). No console error, no failed request, axe-core clean.
/// </summary>
public sealed class ContributionJourneyTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>, IAsyncLifetime
{
    const string Atd = "rennes-metropole";
    MapSite site = null!;
    readonly List<string> problems = [];

    public async Task InitializeAsync() => site = await db.SiteAsync();
    public async Task DisposeAsync() => await site.CloseContextsAsync();

    [Fact]
    public async Task An_atd_editor_records_an_observation_and_sees_its_todo_list_audit_and_map_change()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "ATD Rennes (navigateur)", Contributor.AtdEditor, Atd, null);
        // The to-do list's first item, computed here: the most populous obliged commune of the perimeter not open.
        var first = (await db.RowsAsync("""
            select c.id, c.name from collectivite c join atd_coverage ac on ac.collectivite_id = c.id and ac.atd_id = $1
             where c.is_obliged and not c.is_open order by c.population desc nulls last, c.id limit 1
            """, Atd)).Single();
        var (id, name) = ((string)first[0]!, (string)first[1]!);

        var page = await site.OpenPageAsync(problems, "/contribuer");
        Assert.False(await page.IsVisibleAsync("#obs-form"));
        await page.FillAsync("#key-input", key);
        await page.ClickAsync("#key-form button");
        await page.WaitForSelectorAsync("#editor:not([hidden])");
        var status = await page.TextContentAsync("#key-status");
        Assert.Contains("ATD Rennes (navigateur)", status);
        Assert.Contains("Rennes Métropole", status);

        // The search offers what the key may write for, and names what it may not.
        await page.FillAsync("#find-input", "Paris");
        await page.ClickAsync("#find-form button");
        await page.Locator("#find-results li").First.WaitForAsync();
        Assert.Contains("Paris (COM 75056, 75) — hors de votre périmètre", await page.TextContentAsync("#find-results"));
        Assert.Equal(0, await page.Locator("#find-results button").CountAsync());
        await page.FillAsync("#find-input", "Betton");
        await page.ClickAsync("#find-form button");
        await page.Locator("#find-results button").First.WaitForAsync();
        Assert.StartsWith("Betton (COM 35024", await page.Locator("#find-results button").First.TextContentAsync());

        var todoFirst = page.Locator("#todo-list li button").First;
        await todoFirst.WaitForAsync();
        Assert.StartsWith(name + " (", await todoFirst.TextContentAsync());
        await todoFirst.ClickAsync();
        await page.WaitForSelectorAsync("#selected:not([hidden])");
        Assert.StartsWith(name, await page.TextContentAsync("#sel-name"));
        Assert.Equal(QueryParameters.Today.ToString("yyyy-MM-dd"), await page.InputValueAsync("#f-date"));

        await page.FillAsync("#f-local", "12");
        await page.FillAsync("#f-platforms", "Plateforme de Rennes Métropole");
        await page.FillAsync("#f-url", "https://data.rennesmetropole.fr/");
        await page.FillAsync("#f-note", "constaté en atelier");
        await page.ClickAsync("#obs-form button[type=submit]");
        var ok = page.Locator("#obs-result .ok");
        await ok.WaitForAsync();
        Assert.Contains($"enregistrée pour {name}", await ok.TextContentAsync());

        // What the database holds, and what the page now shows.
        var row = (await db.RowsAsync("select datasets_local, url, contributor from observation where collectivite_id = $1 and source = 'contribution'", id)).Single();
        Assert.Equal([12, "https://data.rennesmetropole.fr/", "ATD Rennes (navigateur)"], row);
        await MapSite.WaitForAsync(page, $"![...document.querySelectorAll('#todo-list li')].some(li => li.textContent.startsWith({System.Text.Json.JsonSerializer.Serialize(name + " (")}))");
        Assert.Contains("acceptée (201)", await page.Locator("#audit-list li").First.TextContentAsync());
        Assert.Contains("saisie : ATD Rennes (navigateur) — constaté en atelier", await page.TextContentAsync("#sel-history"));

        // A correction through the page: the option names the observation; the corrected row stays, marked.
        var firstId = await db.ScalarAsync<long>("select id from observation where collectivite_id = $1 and source = 'contribution'", id);
        await page.SelectOptionAsync("#f-supersedes", firstId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#f-local", "15");
        await page.ClickAsync("#obs-form button[type=submit]");
        await MapSite.WaitForAsync(page, "document.querySelector('#sel-history').textContent.includes('corrigée par')");
        var fixedRow = (await db.RowsAsync("select o.datasets_local, (select superseded_by from observation where id = $2) = o.id from observation o where o.collectivite_id = $1 and o.source = 'contribution' and o.id <> $2", id, firstId)).Single();
        Assert.Equal([15, true], fixedRow);
        Assert.StartsWith("Ouverte selon la dernière observation", await page.TextContentAsync("#sel-status"));
        Assert.Empty(await MapSite.AxeViolationsAsync(page));
        await MapSite.ScreenshotAsync(page, "contribuer-atd.png", fullPage: true);

        // The map's card of the commune: open, with the contributor's row in its history.
        await page.ClickAsync("#sel-status a");
        await page.WaitForSelectorAsync("#map[data-ready='1']");
        await page.WaitForSelectorAsync("#card:not([hidden]) #history");
        var history = await page.TextContentAsync("#history");
        Assert.Contains("saisie : ATD Rennes (navigateur)", history);
        // The page says how old the national picture is, not only when the last contribution came.
        var census = await db.ScalarAsync<DateOnly>("select max(observed_on) from status_snapshot where complete");
        await MapSite.WaitForAsync(page, "document.querySelector('#data-age').textContent.includes('contribution')");
        Assert.Equal($"Dernier recensement complet : {census.ToString("d MMMM yyyy", System.Globalization.CultureInfo.GetCultureInfo("fr-FR"))} · dernière contribution : "
            + QueryParameters.Today.ToString("d MMMM yyyy", System.Globalization.CultureInfo.GetCultureInfo("fr-FR")), await page.TextContentAsync("#data-age"));
        await page.WaitForSelectorAsync("#table-body tr");   // the map page's last request

        // From the map's card back to the editor page, the commune already chosen (the key kept in the tab).
        await page.ClickAsync("#contribute-link");
        await page.WaitForSelectorAsync("#selected:not([hidden])");
        Assert.StartsWith(name, await page.TextContentAsync("#sel-name"));
        Assert.Contains("saisie : ATD Rennes (navigateur)", await page.TextContentAsync("#sel-history"));
        await page.Locator("#audit-list li").First.WaitForAsync();
        Assert.Empty(problems);
    }

    [Fact]
    public async Task An_editor_in_reunion_after_midnight_is_offered_the_french_day_the_server_accepts()
    {
        // 21:30 UTC on 30 November: 01:30 on 1 December in Réunion (UTC+4), still 30 November in Paris, the day
        // the server calls today (QueryParameters.Today): the form proposes it, never the browser's next day.
        var instant = new DateTime(2026, 11, 30, 21, 30, 0, DateTimeKind.Utc);
        Assert.Equal(new DateOnly(2026, 11, 30), QueryParameters.TodayAt(instant));
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "ATD Rennes (La Réunion)", Contributor.AtdEditor, Atd, null);
        var reunion = new BrowserNewContextOptions(MapSite.Desktop) { TimezoneId = "Indian/Reunion" };
        var page = await site.OpenPageAsync(problems, "/contribuer", options: reunion, clock: instant);
        await page.FillAsync("#key-input", key);
        await page.ClickAsync("#key-form button");
        await page.Locator("#todo-list li button").First.ClickAsync();
        await page.WaitForSelectorAsync("#selected:not([hidden])");
        Assert.Equal("2026-11-30", await page.InputValueAsync("#f-date"));
        Assert.Equal("2026-11-30", await page.GetAttributeAsync("#f-date", "max"));
        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_visitor_without_a_key_sees_no_form_and_a_wrong_key_is_refused_in_french()
    {
        var page = await site.OpenPageAsync(problems, "/contribuer", phone: true);
        await page.WaitForSelectorAsync("#key-form");
        Assert.False(await page.IsVisibleAsync("#editor"));
        Assert.False(await page.IsVisibleAsync("#obs-form"));
        await page.FillAsync("#key-input", "obs_cette-cle-n-existe-pas");
        await page.ClickAsync("#key-form button");
        await MapSite.WaitForAsync(page, "document.querySelector('#key-status').textContent.startsWith('Clé refusée')");
        Assert.Contains("inconnue, révoquée ou expirée", await page.TextContentAsync("#key-status"));
        Assert.False(await page.IsVisibleAsync("#obs-form"));
        // The refusal itself (HTTP 401 on /api/contributor, and Chromium's console line for it) is the expected answer.
        problems.RemoveAll(p => p.Contains("401") && (p.Contains("/api/contributor") || p.StartsWith("console", StringComparison.Ordinal)));
        Assert.Empty(await MapSite.AxeViolationsAsync(page));
        await MapSite.ScreenshotAsync(page, "contribuer-telephone.png", fullPage: true);
        Assert.Empty(problems);
    }
}
