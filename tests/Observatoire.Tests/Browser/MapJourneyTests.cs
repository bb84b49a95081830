using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Observatoire.Reference;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The page's three kinds of users, each journey on a desktop and a phone screen, asserting what the
/// user sees against answers computed here from the database or the API: an ATD (find it, its card
/// and to-do list, the downloads, the link to share, the directory), a mayor's office (a search with a
/// typo, why it is obliged, its history), national staff (dates, reports), and the table of
/// collectivités. Every journey ends with no console error, no failed request and axe-core clean.
/// </summary>
[Collection(LoadedCollection.Name)]
public sealed partial class MapJourneyTests(LoadedDatabase db) : IAsyncLifetime
{
    MapSite site = null!;
    readonly List<string> problems = [];
    static readonly CultureInfo Fr = CultureInfo.GetCultureInfo("fr-FR");

    public async Task InitializeAsync() => site = await db.SiteAsync();
    public async Task DisposeAsync() => await site.CloseContextsAsync();

    static string Digits(string s) => NonDigits().Replace(s, "");
    static string FrDate(DateOnly d) => d.ToString("d MMMM yyyy", Fr);

    async Task AssertCleanAsync(IPage page)
    {
        Assert.Empty(await MapSite.AxeViolationsAsync(page));
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Atd_journey_click_in_a_nested_perimeter_card_todo_downloads_share_directory(bool phone)
    {
        // A point inside the Côtes-d'Armor: its département's ATD lies inside the Bretagne région's ATD.
        var point = (await db.RowsAsync("select ST_X(label_point), ST_Y(label_point) from collectivite_geometry where collectivite_id = 'DEP-22'"))[0];
        double lon = (double)point[0]!, lat = (double)point[1]!;
        var containing = (await db.RowsAsync("""
            select id, name from atd where ST_Contains(perimeter, ST_SetSRID(ST_MakePoint($1, $2), 4326)) order by ST_Area(perimeter), id
            """, lon, lat)).Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.True(containing.Count >= 2, "il faut des périmètres emboîtés en ce point");
        var (atdId, atdName) = containing[0];

        var page = await site.OpenAsync(problems, $"#carte=8/{lat.ToString("0.0000", CultureInfo.InvariantCulture)}/{lon.ToString("0.0000", CultureInfo.InvariantCulture)}&atdl=1", phone);
        await page.WaitForSelectorAsync($"path[data-atd='{atdId}']", new() { State = WaitForSelectorState.Attached });
        var box = (await page.Locator("#map").BoundingBoxAsync())!;
        var at = await page.EvaluateAsync<double[]>($"(() => {{ const p = observatoire.map.latLngToContainerPoint([{lat.ToString(CultureInfo.InvariantCulture)}, {lon.ToString(CultureInfo.InvariantCulture)}]); return [p.x, p.y]; }})()");
        await page.Mouse.ClickAsync(box.X + (float)at[0], box.Y + (float)at[1]);
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{atdName}\")");

        // The to-do list: obliged collectivités of the perimeter not open, largest first.
        var todo = await db.RowsAsync("""
            select c.name from atd_coverage ac join collectivite c on c.id = ac.collectivite_id
             where ac.atd_id = $1 and c.is_obliged and not c.is_open order by c.population desc nulls last, c.id
            """, atdId);
        Assert.NotEmpty(todo);
        var shown = await page.Locator("#atd-todo-list li button").AllInnerTextsAsync();
        Assert.Equal(todo.Take(5).Select(r => (string)r[0]!), shown.Take(5));
        Assert.Contains(Digits(todo.Count.ToString(CultureInfo.InvariantCulture)), Digits(await page.InnerTextAsync("#atd-todo-count")));
        var covered = await db.ScalarAsync<long>("select count(*) from atd_coverage where atd_id = $1", atdId);
        Assert.Equal(covered.ToString(CultureInfo.InvariantCulture), Digits(await page.InnerTextAsync("[data-field=covered]")));
        var seasons = await db.ScalarAsync<string>("select array_to_string(seasons, ',') from atd where id = $1", atdId);
        if (seasons.Length > 0) Assert.Contains("saison " + seasons.Split(',')[0], await page.InnerTextAsync("[data-field=seasons]"));
        await MapSite.ScreenshotAsync(page, phone ? "atd-telephone.png" : "atd-fiche.png");

        // The to-do list as CSV: every entry, the largest first.
        var csv = await MapSite.DownloadAsync(page, "#atd-csv");
        Assert.Equal([0xEF, 0xBB, 0xBF], csv[..3]);
        var lines = Encoding.UTF8.GetString(csv[3..]).TrimEnd().Split("\r\n");
        Assert.StartsWith("Identifiant;SIREN;Code;Type;Nom", lines[0]);
        Assert.Equal(todo.Count + 1, lines.Length);
        Assert.Contains((string)todo[0][0]!, lines[1]);
        var pdf = await MapSite.DownloadAsync(page, "#atd-pdf");
        Assert.Equal("%PDF-", Encoding.ASCII.GetString(pdf[..5]));

        // The URL shares the card.
        Assert.Contains("sel=ATD-" + atdId, page.Url);
        var shared = await site.OpenAsync(problems, new Uri(page.Url).Fragment, phone);
        await shared.WaitForSelectorAsync($"#card-title:text-is(\"{atdName}\")");

        // Found by its name in the search, too.
        await shared.FillAsync("#search-input", atdName);
        var option = shared.Locator("#search-results li[data-i]", new() { HasText = "Animateur territorial" }).First;
        await option.WaitForAsync();
        await option.ClickAsync();
        await shared.WaitForSelectorAsync($"#card-title:text-is(\"{atdName}\")");

        // The directory of all ATD, sorted by obliged collectivités.
        var maxObliged = await db.ScalarAsync<long>("""
            select coalesce(max(n), 0) from (select count(*) filter (where c.is_obliged) as n from atd a
              left join atd_coverage ac on ac.atd_id = a.id left join collectivite c on c.id = ac.collectivite_id group by a.id) x
            """);
        Assert.Equal(await db.ScalarAsync<long>("select count(*) from atd"), await shared.Locator("#atd-body tr").CountAsync());
        await shared.ClickAsync("#atd-head th[data-key=obliged] button");
        Assert.Equal("descending", await shared.GetAttributeAsync("#atd-head th[data-key=obliged]", "aria-sort"));
        Assert.Equal(maxObliged.ToString(CultureInfo.InvariantCulture), Digits(await shared.InnerTextAsync("#atd-body tr:first-child td:nth-of-type(2)")));
        await AssertCleanAsync(shared);
        await AssertCleanAsync(page);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mayors_office_journey_typo_search_why_obliged_history_and_keyboard(bool phone)
    {
        var rennes = (await db.RowsAsync("select name, population, first_seen_open from collectivite where id = 'COM-35238'"))[0];
        var page = await site.OpenAsync(problems, "", phone);
        // A typo, and Enter before the list shows: the best match opens, not a small namesake.
        await page.FillAsync("#search-input", "Renes");
        await page.PressAsync("#search-input", "Enter");
        await page.WaitForSelectorAsync("#card-title:text-is('Rennes')");

        var why = await page.InnerTextAsync("#obligation-why");
        Assert.StartsWith("Obligée", why);
        Assert.Contains(Digits(((int)rennes[1]!).ToString(CultureInfo.InvariantCulture)), Digits(why));
        // The law's thresholds, restated here (3,500 inhabitants, 50 agents), and the unknown staff.
        Assert.Contains("3 500", why.Replace('\u00A0', ' ').Replace('\u202F', ' '));
        Assert.Contains("50 agents", why);
        Assert.Contains("effectif n'est pas connu", why);
        Assert.Contains("borne haute", why);
        var firstSeen = (DateOnly)rennes[2]!;
        Assert.StartsWith("Observée ouverte depuis le " + FrDate(firstSeen), await page.InnerTextAsync("#first-seen"));
        // French everywhere: the platforms' modes are translated.
        var text = await page.InnerTextAsync("#card");
        foreach (var english in new[] { "mutualised", "dedicated", "partnership", "shared" }) Assert.DoesNotContain(english, text);
        var observations = await db.ScalarAsync<long>("select count(*) from observation where collectivite_id = 'COM-35238'");
        Assert.Equal(observations, await page.Locator("#history tbody tr").CountAsync());
        // The history fits the card: no column left past its right edge (the source column was, on both screens).
        var past = await page.EvaluateAsync<double>("""
            document.querySelector('#history').getBoundingClientRect().right - document.querySelector('#card').getBoundingClientRect().right
            """);
        Assert.True(past <= 0, $"l'historique dépasse la fiche de {past} px");
        await MapSite.ScreenshotAsync(page, phone ? "mairie-telephone.png" : "mairie-fiche.png");
        await AssertCleanAsync(page);

        // A commune under the threshold says why it is not obliged.
        var small = (await db.RowsAsync($"select name from collectivite where type = 'COM' and population between 1000 and 3499 and name !~ '[-'' ]' order by population desc, id limit 1"))[0];
        await page.FillAsync("#search-input", (string)small[0]!);
        await page.WaitForSelectorAsync("#search-results li[data-i='0']");
        // Arrow keys start at the first result.
        await page.PressAsync("#search-input", "ArrowDown");
        Assert.Equal("sr-0", await page.GetAttributeAsync("#search-input", "aria-activedescendant"));
        await page.PressAsync("#search-input", "Enter");
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{small[0]}\")");
        Assert.StartsWith("Non obligée", await page.InnerTextAsync("#obligation-why"));
        Assert.Contains("sous le seuil", await page.InnerTextAsync("#obligation-why"));
        // Escape closes the card and gives the focus back to where it was (the search box).
        await page.Keyboard.PressAsync("Escape");
        await page.Keyboard.PressAsync("Escape");
        Assert.True(await page.IsHiddenAsync("#card"));
        Assert.Equal("search-input", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task National_staff_journey_dates_card_on_date_and_reports(bool phone)
    {
        var progress = await db.App.CreateClient().GetFromJsonAsync<JsonElement>("/api/progress");
        var seriesDates = progress.GetProperty("series").EnumerateArray().Select(p => p.GetProperty("date").GetString()!).Order().ToArray();
        var firstObservation = (DateOnly)(await db.RowsAsync("select min(observed_on) from observation"))[0][0]!;
        var page = await site.OpenAsync(problems, "#sel=COM-35238", phone);
        await page.WaitForSelectorAsync("#card-title:text-is('Rennes')");
        await page.WaitForSelectorAsync("#date-pick option:nth-child(2)", new() { State = WaitForSelectorState.Attached });
        var offered = (await page.EvalOnSelectorAllAsync<string[]>("#date-pick option", "os => os.map(o => o.value).filter(v => v)")).Order().ToArray();
        Assert.Equal(seriesDates, offered);

        var iso = firstObservation.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await page.SelectOptionAsync("#date-pick", iso);
        await page.WaitForSelectorAsync($"#card p:has-text('au {FrDate(firstObservation)}')");
        Assert.Contains("date=" + iso, page.Url);
        Assert.Contains("date=" + iso, await page.GetAttributeAsync("#dl-pdf", "href"));
        await MapSite.ScreenshotAsync(page, phone ? "national-telephone.png" : "national-date.png");

        Assert.Equal("%PDF-", Encoding.ASCII.GetString((await MapSite.DownloadAsync(page, "#dl-pdf"))[..5]));
        Assert.Equal("PK", Encoding.ASCII.GetString((await MapSite.DownloadAsync(page, "#dl-xlsx"))[..2]));
        var regions = Encoding.UTF8.GetString(await MapSite.DownloadAsync(page, "#dl-tables a[data-table=regions]"));
        Assert.StartsWith("\uFEFFCode région;Région", regions);
        Assert.Equal(Observatoire.Reports.ReportTables.Names.Length, await page.Locator("#dl-tables a").CountAsync());
        await AssertCleanAsync(page);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Table_journey_filters_search_sort_pages_and_csv_match_the_database(bool phone)
    {
        var page = await site.OpenAsync(problems, "", phone);
        await page.WaitForSelectorAsync("#table-body tr");
        Assert.Equal(8, await page.Locator("#collectivites-table thead th[scope=col]").CountAsync());

        await page.SelectOptionAsync("#f-band", ">=100000");
        const string Band = "population_band = '>=100000' and type <> 'COLOM'";
        var count = await db.ScalarAsync<long>($"select count(*) from collectivite where {Band}");
        await MapSite.WaitForAsync(page, TableCount(count));
        var expected = (await db.RowsAsync($"select name from collectivite where {Band} order by population desc nulls last, id limit 20")).Select(r => (string)r[0]!);
        Assert.Equal(expected, await page.Locator("#table-body th").AllInnerTextsAsync());

        await page.ClickAsync("#table-head th[data-key=Name] button");
        await page.WaitForSelectorAsync("#table-head th[data-key=Name][aria-sort=ascending]");
        var byName = (await db.RowsAsync($"select name from collectivite where {Band} order by name, id limit 20")).Select(r => (string)r[0]!);
        await MapSite.WaitForAsync(page, $"document.querySelector('#table-body th').textContent === {JsonSerializer.Serialize(byName.First())}");
        Assert.Equal(byName, await page.Locator("#table-body th").AllInnerTextsAsync());

        await page.ClickAsync("#table-next");
        await page.WaitForSelectorAsync("#table-status:has-text('page 2')");

        await page.FillAsync("#table-q", "saint");
        var saints = await db.ScalarAsync<long>($"select count(*) from collectivite where {Band} and search_name like '%saint%'");
        await MapSite.WaitForAsync(page, TableCount(saints));
        var csv = Encoding.UTF8.GetString(await MapSite.DownloadAsync(page, "#table-csv")).TrimEnd().Split("\r\n");
        Assert.StartsWith("\uFEFFIdentifiant;Nom;Type", csv[0]);
        Assert.Equal(saints + 1, csv.Length);
        await MapSite.ScreenshotAsync(page, phone ? "tableau-telephone.png" : "tableau.png", fullPage: true);
        await AssertCleanAsync(page);
    }

    [Fact]
    public async Task Keyboard_skip_link_keeps_the_view_tab_skips_hidden_shapes_enter_opens_escape_returns()
    {
        var page = await site.OpenAsync(problems, "#carte=7/47.0000/2.0000");
        var url = page.Url;
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("search-input", await page.EvaluateAsync<string>("document.activeElement.id"));
        Assert.Equal(url, page.Url);

        // Only the territories one can see are in the Tab order.
        var (focusable, visible) = await page.EvaluateAsync<(int, int)>("""
            (() => {
              const m = document.querySelector('#map').getBoundingClientRect();
              const paths = [...document.querySelectorAll('path.obs-area')];
              const seen = paths.filter(p => { const r = p.getBoundingClientRect(); return r.right > m.left && r.left < m.right && r.bottom > m.top && r.top < m.bottom; });
              return { Item1: paths.filter(p => p.getAttribute('tabindex') === '0').length, Item2: seen.length };
            })()
            """);
        Assert.InRange(focusable, 1, visible);
        Assert.True(await page.Locator("path.obs-area").CountAsync() > visible, "à ce zoom, des départements sont hors de la vue");

        var path = page.Locator("path.obs-area[tabindex='0']").First;
        var label = (await path.GetAttributeAsync("aria-label"))!;
        await path.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{label.Split(',')[0]}\")");
        await page.Keyboard.PressAsync("Escape");
        Assert.True(await page.IsHiddenAsync("#card"));
        Assert.Equal("path", await page.EvaluateAsync<string>("document.activeElement.tagName"));
        await AssertCleanAsync(page);
    }

    [Fact]
    public async Task Phone_scrolls_outside_the_map_with_tap_targets_of_44_px_and_text_of_12_px()
    {
        var page = await site.OpenAsync(problems, "", phone: true);
        await page.WaitForSelectorAsync("#table-body tr");
        var small = await page.EvaluateAsync<string[]>("""
            [...document.querySelectorAll('button, a, select, input')].filter(e => {
              if (e.closest('.leaflet-control-attribution') || e.closest('.sr') || e.classList.contains('skip')) return false;
              // A check box or radio button is tapped through its label.
              const target = e.matches('input[type=checkbox], input[type=radio]') ? e.closest('label') || e : e;
              const r = target.getBoundingClientRect(); if (!r.width || !r.height) return false;
              // Links inside a sentence or a table cell are exempt (WCAG 2.5.8 inline exception).
              if (e.matches('a:not(.button), button.link') && e.closest('p, li, td, th, dd')) return false;
              return r.height < 44 || r.width < 44;
            }).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().height)).slice(0, 8)
            """);
        Assert.Empty(small);
        var tiny = await page.EvaluateAsync<string[]>("""
            [...document.querySelectorAll('body *')].filter(e => !(e instanceof SVGElement) && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
              && e.getBoundingClientRect().width > 0 && !e.closest('.sr') && parseFloat(getComputedStyle(e).fontSize) < 12)
              .map(e => e.tagName + '.' + e.className + ' ' + getComputedStyle(e).fontSize).slice(0, 8)
            """);
        Assert.Empty(tiny);
        // The overseas insets are whole on screen: not under the attribution, which wraps on a phone.
        var hidden = await page.EvaluateAsync<string[]>("""
            (() => { const a = document.querySelector('.leaflet-control-attribution').getBoundingClientRect();
              return [...document.querySelectorAll('.insets .inset')].map(e => e.getBoundingClientRect())
                .filter(r => r.bottom > a.top && r.top < a.bottom && r.right > a.left && r.left < a.right)
                .map(r => Math.round(r.left) + ',' + Math.round(r.top)); })()
            """);
        Assert.Empty(hidden);
        // A swipe on the panel (outside the map) scrolls the page.
        var panel = (await page.Locator("#progress").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(panel.X + 20, Math.Min(panel.Y + 20, 800));
        await page.Mouse.WheelAsync(0, 600);
        await MapSite.WaitForAsync(page, "window.scrollY > 0");
        await MapSite.ScreenshotAsync(page, "telephone-panneau.png");
        await AssertCleanAsync(page);
    }

    // The count the table's status line starts with ("1 234 collectivités · page 1 sur 62").
    static string TableCount(long n) =>
        $"Number((document.querySelector('#table-status').textContent.match(/^[\\d\\s\\u202f]+/) || ['x'])[0].replace(/\\D/g, '')) === {n}";

    [GeneratedRegex("[^0-9]")] private static partial Regex NonDigits();
}
