using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Observatoire.Contributions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The map's « Changements » mode (issue #17) as a user meets it, on the bundled data: one click
/// compares the two latest directory snapshots (the list is /api/changes's, the map draws each change),
/// an item opens its card, the URL reopens the mode, « Disparues des radars » lists the collectivités
/// that vanished (checked against the raw OpenDataFrance files: none between the two bundled editions),
/// and an ATD's card opens the changes of its own perimeter. Desktop and phone.
/// </summary>
[Collection(LoadedCollection.Name)]
public sealed class ChangesJourneyTests(LoadedDatabase db) : IAsyncLifetime
{
    MapSite site = null!;
    readonly List<string> problems = [];

    public async Task InitializeAsync() => site = await db.SiteAsync();
    public async Task DisposeAsync() => await site.CloseContextsAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_click_compares_the_latest_snapshots_items_open_cards_the_link_reopens_and_an_atd_sees_its_own(bool phone)
    {
        var snapshots = (await db.RowsAsync("select observed_on::text from status_snapshot order by observed_on desc limit 2")).Select(r => (string)r[0]!).ToList();
        var (from, to) = (snapshots[1], snapshots[0]);
        var api = await db.App.CreateClient().GetFromJsonAsync<JsonElement>($"/api/changes?from={from}&to={to}");

        var page = await site.OpenAsync(problems, "", phone);
        await page.ClickAsync("#chg-open");
        await ChangesJourney.ReadyAsync(page);
        Assert.Contains($"chg={from},{to}", page.Url);
        Assert.Equal(from, await page.InputValueAsync("#chg-from"));
        Assert.Equal(to, await page.InputValueAsync("#chg-to"));
        // The bundled editions differ by dataset counts only: the list is the API's, in its order.
        var data = ChangesJourney.Ids(api, "datasetChanges");
        Assert.NotEmpty(data);
        Assert.Equal(data, await ChangesJourney.ListedAsync(page, "chg-data"));
        Assert.Equal(ChangesJourney.Ids(api, "newlyOpen"), await ChangesJourney.ListedAsync(page, "chg-new"));
        Assert.Equal((data.Count + ChangesJourney.Ids(api, "newlyOpen").Count).ToString(), await page.GetAttributeAsync("#map", "data-changes"));
        Assert.Contains("Dernière observation de l’observatoire", await page.InnerTextAsync("#chg-age"));
        // On a phone: the map, the legend and the mode's panel down to the start of the list.
        await MapSite.ScreenshotAsync(page, phone ? "changements-telephone.png" : "changements-bureau.png",
            height: phone ? await page.EvalOnSelectorAsync<float>("#chg-lists", "e => e.getBoundingClientRect().top + window.scrollY + 420") : null);

        // An item opens its collectivité's card. Its counts per platform: a part unknown on one date (the
        // April file's data.gouv.fr counts) is shown as such and does not count as a change.
        var first = page.Locator("#chg-data li").First;
        var before = api.GetProperty("datasetChanges")[0].GetProperty("before");
        if (before.GetProperty("datasetsDataGouv").ValueKind == JsonValueKind.Null)
            Assert.Contains("data.gouv.fr : inconnu → ", await first.InnerTextAsync());
        var name = await first.Locator("button").InnerTextAsync();
        await first.Locator("button").ClickAsync();
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{name}\")");
        Assert.Contains("sel=" + data[0], page.Url);

        // The link reopens the mode, the same list.
        var again = await site.OpenAsync(problems, new Uri(page.Url).Fragment, phone);
        await ChangesJourney.ReadyAsync(again);
        Assert.Equal(data, await ChangesJourney.ListedAsync(again, "chg-data"));
        await again.WaitForSelectorAsync($"#card-title:text-is(\"{name}\")");
        await again.Context.CloseAsync();

        // « Disparues des radars »: the SIRENs of the earlier edition's file missing from the later one —
        // none in the bundled files — and the API says the same.
        await page.ClickAsync("#chg-close");
        await page.ClickAsync("#chg-radar");
        await ChangesJourney.ReadyAsync(page);
        Assert.Contains("chgk=gone", page.Url);
        var vanished = RawOdf.April.Select(r => r.Siren).Except(RawOdf.October.Select(r => r.Siren)).ToList();
        Assert.Empty(vanished);
        Assert.Empty(ChangesJourney.Ids(api, "noLongerListed"));
        Assert.Empty(await ChangesJourney.ListedAsync(page, "chg-gone"));
        Assert.Equal("Aucune collectivité disparue.", await page.InnerTextAsync("#chg-gone"));
        Assert.Equal(0, await page.Locator("#chg-data").CountAsync());

        // An ATD: its card, then « Changements de mon territoire »: only collectivités of its perimeter.
        // (the ATD whose perimeter holds the most changes: between the bundled editions, one real change)
        var atd = await db.ScalarAsync<string>($"""
            select ac.atd_id from changes_between('{from}', '{to}') x join atd_coverage ac on ac.collectivite_id = x.collectivite_id
             group by 1 order by count(*) desc, 1 limit 1
            """);
        var atdName = await db.ScalarAsync<string>("select name from atd where id = $1", atd);
        await page.ClickAsync($"#atd-body th button:text-is(\"{atdName}\")");
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{atdName}\")");
        await page.ClickAsync("#atd-changes");
        await ChangesJourney.ReadyAsync(page);
        Assert.Contains("atd=" + atd, page.Url);
        var own = await db.App.CreateClient().GetFromJsonAsync<JsonElement>($"/api/changes?from={from}&to={to}&atd={atd}");
        var ownData = ChangesJourney.Ids(own, "datasetChanges");
        Assert.NotEmpty(ownData);
        Assert.True(ownData.Count <= data.Count);
        Assert.Equal(ownData, await ChangesJourney.ListedAsync(page, "chg-data"));
        var covered = (await db.RowsAsync("select collectivite_id from atd_coverage where atd_id = $1", atd)).Select(r => (string)r[0]!).ToHashSet();
        Assert.All(ownData, id => Assert.Contains(id, covered));
        Assert.Contains("ATD " + atdName, await page.InnerTextAsync("#chg-age"));
        Assert.Contains("atd=" + atd, await page.GetAttributeAsync("#chg-csv", "href"));
        // The list's CSV, downloaded as a user would: one line per change of the ATD's perimeter.
        var csv = Encoding.UTF8.GetString(await MapSite.DownloadAsync(page, "#chg-csv")).TrimStart('\uFEFF');
        var csvLines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(ownData.Count + ChangesJourney.Ids(own, "newlyOpen").Count + ChangesJourney.Ids(own, "noLongerListed").Count, csvLines.Count);
        Assert.All(ownData, id => Assert.Contains(csvLines, l => l.Contains(id)));
        await ChangesJourney.AssertCleanAsync(page, problems);
    }
}

/// <summary>
/// « Disparues des radars » when collectivités do vanish: a new edition of the directory is uploaded
/// without a few rows of the latest one (as OpenDataFrance's 2022 edition lost 30 collectivités
/// unnoticed); one click lists exactly those, computed here from the two raw files; an item opens its
/// card; an ATD's « Changements de mon territoire » keeps those of its perimeter. On a database of its
/// own (it imports).
/// </summary>
public sealed class RadarJourneyTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>, IAsyncLifetime
{
    const string Atd = "bretagne";
    const string NewEdition = "2023-03-01";
    MapSite site = null!;
    readonly List<string> problems = [];

    public async Task InitializeAsync() => site = await db.SiteAsync();
    public async Task DisposeAsync() => await site.CloseContextsAsync();

    [Fact]
    public async Task A_new_edition_without_some_collectivites_lists_exactly_them_in_one_click()
    {
        // Rows of the latest file to leave out: communes listed once (one row, one line, one SIREN), whose
        // name in the file is the reference list's, three in the ATD's perimeter and three outside it.
        var october = RawOdf.October;
        var lines = october.Select(r => r.Line).ToHashSet();
        var single = october.Where(r => lines.Contains(r.Line + 1) || r == october[^1]).GroupBy(r => r.Siren)
            .Where(g => g.Count() == 1 && g.Key.Length == 9).ToDictionary(g => g.Key, g => g.Single());
        var candidates = await db.RowsAsync("""
            select c.siren, c.name, exists (select 1 from atd_coverage ac where ac.atd_id = $2 and ac.collectivite_id = c.id)
              from collectivite c
             where c.type = 'COM' and c.siren = any($1)
               and (select count(*) from observation o where o.collectivite_id = c.id and o.observed_on = '2022-10-19' and o.is_listed) = 1
             order by c.population desc, c.id
            """, (object)single.Keys.ToArray(), Atd);
        var named = candidates.Where(r => RawOdf.Key((string)r[1]!) == RawOdf.Key(single[(string)r[0]!]["nom"])).ToList();
        var left = named.Where(r => (bool)r[2]!).Take(3).Concat(named.Where(r => !(bool)r[2]!).Take(3)).Select(r => single[(string)r[0]!]).ToList();
        Assert.Equal(6, left.Count);
        var text = File.ReadAllText(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv"), Encoding.UTF8).Split('\n').ToList();
        foreach (var line in left.Select(r => r.Line).OrderDescending()) text.RemoveAt(line - 1);
        var file = Path.Combine(Path.GetTempPath(), $"annuaire-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, string.Join('\n', text), Encoding.UTF8);

        // What vanished, from the raw files alone: SIRENs of the latest file missing from the new one.
        var vanished = october.Select(r => r.Siren).Except(RawOdf.Read(file, ',').Select(r => r.Siren)).Order().ToList();
        File.Delete(file);
        Assert.Equal(left.Select(r => r.Siren).Order(), vanished);
        var expected = (await db.RowsAsync("select id, name from collectivite where siren = any($1)", (object)vanished.ToArray()))
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Equal(6, expected.Count);

        var client = db.App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            (await ApiKeys.CreateAsync(db.DataSource, "équipe (radar)", Contributor.Admin, null, null)).Key);
        var upload = await client.PostAsync("/api/snapshots?dryRun=false", new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join('\n', text))), "file", "annuaire.csv" },
            { new StringContent(NewEdition), "date" },
        });
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);

        var page = await site.OpenAsync(problems, "");
        await page.ClickAsync("#chg-radar");
        await ChangesJourney.ReadyAsync(page);
        Assert.Contains("chg=2022-10-19," + NewEdition + "&chgk=gone", page.Url);
        var shown = await ChangesJourney.ListedAsync(page, "chg-gone");
        Assert.Equal(expected.Keys.Order(), shown.Order());
        var api = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from=2022-10-19&to={NewEdition}");
        Assert.Equal(ChangesJourney.Ids(api, "noLongerListed"), shown);
        Assert.Equal(
            left.Select(r => RawOdf.Key(r["nom"])).Order(),
            (await page.Locator("#chg-gone li button").AllInnerTextsAsync()).Select(RawOdf.Key).Order());
        Assert.Contains("N’apparaissent plus : 6", await page.InnerTextAsync("#chg-counts"));
        Assert.Equal("6", await page.GetAttributeAsync("#map", "data-changes"));
        // Each item says which observations decide: listed in the edition of 2022-10-19, absent from the new one.
        Assert.Contains("ouverte le 19 octobre 2022, non listée le 1 mars 2023 (annuaire OpenDataFrance)", await page.Locator("#chg-gone li").First.InnerTextAsync());
        // The panel scrolled to the list.
        await page.EvalOnSelectorAsync("#changes", "c => { const p = c.closest('.panel'); p.scrollTop += c.getBoundingClientRect().top - p.getBoundingClientRect().top - 8; }");
        await MapSite.ScreenshotAsync(page, "changements-disparues.png");

        // An item opens its card, whose history now ends « non listée ».
        var item = page.Locator("#chg-gone li button").First;
        var name = await item.InnerTextAsync();
        await item.ClickAsync();
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{name}\")");
        Assert.Contains("non listée", await page.Locator("#history tbody tr").Last.InnerTextAsync());

        // The ATD's own changes: the three of its perimeter.
        var atdName = await db.ScalarAsync<string>("select name from atd where id = $1", Atd);
        await page.ClickAsync($"#atd-body th button:text-is(\"{atdName}\")");
        await page.WaitForSelectorAsync($"#card-title:text-is(\"{atdName}\")");
        await page.ClickAsync("#atd-changes");
        await ChangesJourney.ReadyAsync(page);
        var own = await client.GetFromJsonAsync<JsonElement>($"/api/changes?from=2022-10-19&to={NewEdition}&atd={Atd}");
        var ownGone = ChangesJourney.Ids(own, "noLongerListed");
        Assert.Equal(3, ownGone.Count);
        Assert.Equal(ownGone, await ChangesJourney.ListedAsync(page, "chg-gone"));
        var covered = (await db.RowsAsync("select collectivite_id from atd_coverage where atd_id = $1", Atd)).Select(r => (string)r[0]!).ToHashSet();
        Assert.All(ownGone, id => Assert.Contains(id, covered));
        await ChangesJourney.AssertCleanAsync(page, problems);
    }
}

static class ChangesJourney
{
    /// <summary>Waits for the mode's list to be drawn (after the answer of /api/changes).</summary>
    public static Task ReadyAsync(IPage page) => page.WaitForSelectorAsync("#changes[data-ready='1']", new() { State = WaitForSelectorState.Attached });

    public static List<string> Ids(JsonElement answer, string list) =>
        answer.GetProperty(list).EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

    /// <summary>The collectivités a group of the list shows, in its order.</summary>
    public static async Task<List<string>> ListedAsync(IPage page, string group) =>
        (await page.EvalOnSelectorAllAsync<string[]>($"#{group} li", "ls => ls.map(l => l.dataset.id)")).ToList();

    public static async Task AssertCleanAsync(IPage page, List<string> problems)
    {
        Assert.Empty(await MapSite.AxeViolationsAsync(page));
        Assert.Empty(problems);
    }
}
