using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Observatoire.Api;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The map page at / in Chromium: loads offline without console errors, draws the 18 régions, finds
/// Rennes and shows its figures (checked against the raw COG file), reacts to a filter, restores a
/// copied URL, and fits a phone screen without sideways scrolling.
/// </summary>
[Collection(LoadedCollection.Name)]
public sealed partial class MapPageTests(LoadedDatabase db) : IAsyncLifetime
{
    MapSite site = null!;
    readonly List<string> errors = [];

    public async Task InitializeAsync() => site = await db.SiteAsync();
    public async Task DisposeAsync() => await site.CloseContextsAsync();

    Task<IPage> OpenAsync(string hash = "", bool phone = false, BrowserNewContextOptions? options = null, DateTime? clock = null)
        => site.OpenAsync(errors, hash, phone, options, clock);

    static int ExpectedRegions => RawCog.Regions.Count(r => (string?)r!["zone"] != "com");

    [Fact]
    public async Task The_page_loads_offline_without_console_errors_and_draws_the_18_regions()
    {
        var page = await OpenAsync();
        Assert.Equal("regions", await page.GetAttributeAsync("#map", "data-level"));
        Assert.Equal(ExpectedRegions, await page.Locator("path.obs-regions").CountAsync());
        Assert.Equal(ExpectedRegions.ToString(), await page.GetAttributeAsync("#map", "data-features"));
        var attribution = await page.InnerTextAsync(".leaflet-control-attribution");
        foreach (var source in new[] { "IGN", "INSEE", "OpenDataFrance", "ODbL" }) Assert.Contains(source, attribution);
        Assert.Contains("Régions", await page.InnerTextAsync("#legend"));
        await page.WaitForSelectorAsync("#gauge svg");
        await page.WaitForTimeoutAsync(500);
        // Each resource once: the timeline and the panel shared nothing and both asked for /api/progress.
        var requested = await page.EvaluateAsync<string[]>("performance.getEntriesByType('resource').map(e => e.name)");
        Assert.Contains(requested, u => u.EndsWith("/api/progress", StringComparison.Ordinal));
        Assert.Empty(requested.GroupBy(u => u).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}"));

        // The browser's own measure of the time to first choropleth, for scripts/bench-map.sh.
        var ms = await page.EvaluateAsync<double>("performance.getEntriesByName('first-choropleth')[0].startTime");
        var bench = Path.Combine(TestEnvironment.RepoRoot, "out", "bench");
        Directory.CreateDirectory(bench);
        await File.WriteAllTextAsync(Path.Combine(bench, "first-choropleth-ms.txt"), ms.ToString("0", System.Globalization.CultureInfo.InvariantCulture));

        await MapSite.ScreenshotAsync(page, "carte-bureau.png");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_date_control_ends_on_today_in_France_whatever_the_browser_s_time_zone()
    {
        // 23:30 UTC on 30 November: 19:30 on the 30th in Guadeloupe, already 1 December in Paris, the day the
        // server calls today. The last date offered is the server's, neither the browser's day nor UTC's.
        var instant = new DateTime(2026, 11, 30, 23, 30, 0, DateTimeKind.Utc);
        Assert.Equal(new DateOnly(2026, 12, 1), QueryParameters.TodayAt(instant));
        Assert.Equal(new DateOnly(2026, 7, 14), QueryParameters.TodayAt(new DateTime(2026, 7, 14, 21, 59, 0, DateTimeKind.Utc))); // UTC+2 in summer
        Assert.Equal(new DateOnly(2026, 7, 15), QueryParameters.TodayAt(new DateTime(2026, 7, 14, 22, 0, 0, DateTimeKind.Utc)));
        var guadeloupe = new BrowserNewContextOptions(MapSite.Desktop) { TimezoneId = "America/Guadeloupe" };
        var page = await OpenAsync(options: guadeloupe, clock: instant);
        Assert.Equal("2026-12-01", await page.GetAttributeAsync("#date", "max"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_gauge_says_how_old_its_figure_is_and_a_date_before_any_observation_shows_none()
    {
        // The national open count and the latest observation, straight from the tables.
        var open = await db.ScalarAsync<long>("select count(*) from collectivite where is_open and type <> 'COLOM' and not is_overseas_collectivity");
        var last = await db.ScalarAsync<DateTime>("select max(observed_on)::timestamp from observation");
        var fr = System.Globalization.CultureInfo.GetCultureInfo("fr-FR");
        var page = await OpenAsync();
        await page.WaitForSelectorAsync("#gauge-caption");
        var caption = (await page.InnerTextAsync("#gauge-caption")).Replace('\u202f', ' ').Replace('\u00a0', ' ');
        Assert.Equal($"{open.ToString("N0", fr).Replace('\u202f', ' ').Replace('\u00a0', ' ')} collectivités ouvertes (dernière observation : {last.ToString("d MMMM yyyy", fr)})", caption);
        Assert.Contains("borne haute", await page.InnerTextAsync("#obligation-note"));

        // 2019-01-01 precedes every observation: no figure, and the nearest published edition instead.
        var before = await OpenAsync("#date=2019-01-01");
        await before.WaitForSelectorAsync("#no-observation");
        var notice = await before.InnerTextAsync("#no-observation");
        Assert.StartsWith("Pas d’observation à cette date.", notice);
        // The edition nearest to 2019-01-01 in data/milestones.csv.
        var nearest = File.ReadAllLines(Path.Combine(TestEnvironment.DataDir, "milestones.csv")).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',')).Select(f => (Date: DateTime.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), Open: int.Parse(f[1])))
            .MinBy(m => Math.Abs((m.Date - new DateTime(2019, 1, 1)).TotalDays));
        Assert.Contains($"{nearest.Open} collectivités ouvertes au {nearest.Date.ToString("d MMMM yyyy", fr)}", notice.Replace('\u202f', ' ').Replace('\u00a0', ' '));
        Assert.Equal(0, await before.Locator("#gauge-caption").CountAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Searching_Rennes_opens_its_card_with_the_right_figures()
    {
        var raw = RawCog.CurrentCommunes.Single(c => (string?)c["code"] == "35238");
        var epci = RawCog.Epci.Single(e => e!["membres"]!.AsArray().Any(m => (string?)m!["code"] == "35238"))!;
        var page = await OpenAsync();
        await page.FillAsync("#search-input", "rennes");
        await page.WaitForSelectorAsync("#search-results li[data-i='0']");
        Assert.Contains("Rennes", await page.InnerTextAsync("#search-results li[data-i='0']"));
        var tiles = page.WaitForResponseAsync(r => r.Url.Contains("/tiles/communes/") && r.Status == 200);
        await page.PressAsync("#search-input", "Enter");
        await page.WaitForSelectorAsync("#card-title:text-is('Rennes')");

        Assert.Equal(Digits((int)raw["population"]!), Digits(await page.InnerTextAsync("[data-field=population]")));
        Assert.Equal("100 000 hab. et plus", await page.InnerTextAsync("[data-field=band]"));
        Assert.StartsWith("oui", await page.InnerTextAsync("[data-field=obliged]"));
        Assert.Equal((string)epci["nom"]!, await page.InnerTextAsync("[data-field=epci]"));
        Assert.Contains("SIREN", await page.InnerTextAsync("#card"));
        Assert.Contains((string)raw["siren"]!, await page.InnerTextAsync("#card"));

        // Rennes is drawn from the commune tiles at this zoom, and the URL names the selection.
        await tiles;
        await MapSite.WaitForAsync(page, "document.querySelector('#map').dataset.level === 'communes'");
        Assert.Contains("sel=COM-35238", page.Url);

        // Place names at commune zooms: Rennes is written, and no two names overlap.
        await page.WaitForSelectorAsync(".place-label span:text-is('Rennes')");
        var overlaps = await page.EvaluateAsync<int>("""
            (() => {
              const r = [...document.querySelectorAll('.place-label span')].map(s => s.getBoundingClientRect());
              let n = 0;
              for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
                if (r[i].left < r[j].right && r[j].left < r[i].right && r[i].top < r[j].bottom && r[j].top < r[i].bottom) n++;
              return n;
            })()
            """);
        Assert.Equal(0, overlaps);
        await MapSite.ScreenshotAsync(page, "carte-rennes.png");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_filter_changes_the_map()
    {
        var page = await OpenAsync();
        var before = await FillsAsync(page);
        await page.SelectOptionAsync("#f-band", "<500");
        // Below 500 inhabitants no collectivité is obliged: every région turns to "aucune obligée".
        await MapSite.WaitForAsync(page, "[...document.querySelectorAll('path.obs-regions')].every(p => p.getAttribute('fill') === '#bdbdbd')");
        var after = await FillsAsync(page);
        Assert.NotEqual(before, after);
        Assert.Equal(ExpectedRegions, after.Length);
        Assert.Contains("band=%3C500", page.Url);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_copied_url_restores_the_same_view()
    {
        var page = await OpenAsync();
        await page.FillAsync("#search-input", "35238");
        await page.WaitForSelectorAsync("#search-results li[data-i='0']");
        await page.PressAsync("#search-input", "Enter");
        await page.WaitForSelectorAsync("#card-title:text-is('Rennes')");
        await page.SelectOptionAsync("#f-band", ">=100000");
        await page.CheckAsync("input[name=ind][value=count]");
        await page.CheckAsync("#f-obliged");
        var url = page.Url;
        var state = await page.EvaluateAsync<string>("JSON.stringify(window.observatoire.state())");
        const string View = "(() => { const m = window.observatoire.map, c = m.getCenter(); return [m.getZoom(), c.lat, c.lng]; })()";
        var view = await page.EvaluateAsync<double[]>(View);

        var copy = await OpenAsync(new Uri(url).Fragment);
        await copy.WaitForSelectorAsync("#card-title:text-is('Rennes')");
        Assert.Equal(state, await copy.EvaluateAsync<string>("JSON.stringify(window.observatoire.state())"));
        // Same zoom, same centre to the URL's precision (4 decimals, ~10 m).
        var restored = await copy.EvaluateAsync<double[]>(View);
        Assert.Equal(view[0], restored[0]);
        Assert.Equal(view[1], restored[1], 0.0002);
        Assert.Equal(view[2], restored[2], 0.0002);
        Assert.Equal(">=100000", await copy.InputValueAsync("#f-band"));
        Assert.True(await copy.IsCheckedAsync("input[name=ind][value=count]"));
        Assert.True(await copy.IsCheckedAsync("#f-obliged"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_phone_viewport_has_no_horizontal_scroll()
    {
        var page = await OpenAsync(phone: true);
        await page.WaitForSelectorAsync("#gauge svg");
        var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"défilement horizontal de {overflow} px");
        var wide = await page.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.leaflet-pane') && !e.closest('.scroll')).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)");
        Assert.Empty(wide);   // (wide tables scroll inside their own .scroll box)
        // Readable and reachable: the search field and the filters are within the screen width.
        var box = await page.Locator("#search-input").BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.X >= 0 && box.X + box.Width <= 390);
        await MapSite.ScreenshotAsync(page, "carte-telephone.png");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_keyboard_reaches_the_search_and_picks_a_result()
    {
        var page = await OpenAsync();
        await page.Keyboard.PressAsync("Tab");   // skip link
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("search-input", await page.EvaluateAsync<string>("document.activeElement.id"));
        await page.Keyboard.TypeAsync("saint etienne");
        await page.WaitForSelectorAsync("#search-results li[data-i='1']");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("#card-title:text-is('Saint-Étienne')");
        Assert.Empty(errors);
    }

    static async Task<string[]> FillsAsync(IPage page) =>
        await page.EvaluateAsync<string[]>("[...document.querySelectorAll('path.obs-regions')].map(p => p.getAttribute('fill'))");

    static string Digits(object s) => NonDigits().Replace(s.ToString()!, "");

    [GeneratedRegex("[^0-9]")] private static partial Regex NonDigits();
}
