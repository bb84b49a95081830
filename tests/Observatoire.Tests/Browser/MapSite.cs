using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The application on a real Kestrel port (a browser cannot reach WebApplicationFactory's in-memory
/// TestServer) over a loaded test database, and Debian's Chromium driven by Playwright: its headless
/// shell (<c>apt-get install -y chromium-headless-shell</c>, scripts/test.sh does it; Playwright cannot
/// download its browsers here). The same Blink and V8, of the same version, without the browser's
/// windowing layer: what Playwright itself runs for headless tests, and half the CPU of the full
/// <c>chromium</c> in headless mode to open a page and draw the map (docs/benchmarks.md).
/// One site per database (<see cref="TestDatabase.SiteAsync"/>), kept for the classes on it, and one
/// Chromium for the whole run: each page opens in a context of its own, closed when its test ends
/// (<see cref="CloseContextsAsync"/>). Starting an application, a Playwright driver and a Chromium for
/// every test cost about a third of the browser tests' CPU time, and a fresh application recomputed
/// every cached answer the page asks for.
/// </summary>
public sealed class MapSite : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium-headless-shell";
    public string BaseUrl { get; }
    public IBrowser Browser { get; }
    readonly WebApplicationFactory<Program> app;
    readonly List<IBrowserContext> contexts = [];

    MapSite(string baseUrl, WebApplicationFactory<Program> app, IBrowser browser)
    {
        BaseUrl = baseUrl; this.app = app; Browser = browser;
    }

    /// <summary>The run's Chromium, launched at first use and closed at the end of the run (<see cref="TestRun"/>).</summary>
    static readonly Lazy<Task<IBrowser>> Chromium = new(async () =>
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Keep Chromium off the (closed) network: no update checks, no field trials.
            Args = ["--disable-background-networking", "--disable-component-update", "--no-sandbox", "--lang=fr-FR"],
        });
        TestRun.DisposeAtEnd(async () => { await browser.DisposeAsync(); playwright.Dispose(); });
        return browser;
    });

    /// <summary>Starts the application on <paramref name="db"/>; use <see cref="TestDatabase.SiteAsync"/>, which keeps one per database.</summary>
    internal static async Task<MapSite> StartAsync(TestDatabase db)
    {
        var port = FreePort();
        // TestApp.On: the tests' settings, among them OData's wide time budget (the production 10 s
        // answered a journey's table 503 when a full run loaded the machine).
        var app = TestApp.On(db.ConnectionString, b => b.UseSetting("Urls", $"http://127.0.0.1:{port}"));
        app.UseKestrel(port);
        app.StartServer();
        return new MapSite($"http://localhost:{port}", app, await Chromium.Value);
    }

    /// <summary>A free loopback port for a server a test starts.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>
    /// Screenshots go to out/screenshots; with OBS_SCREENSHOTS=1 also to docs/screenshots (committed, shown in the README).
    /// <paramref name="height"/>: the top of the whole page down to that many CSS pixels (a phone's page is very long).
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = false, float? height = null)
    {
        var outDir = Path.Combine(TestEnvironment.RepoRoot, "out", "screenshots");
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, name);
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = path, FullPage = fullPage || height is not null,
            Clip = height is { } h ? new() { X = 0, Y = 0, Width = page.ViewportSize!.Width, Height = h } : null,
        });
        if (Environment.GetEnvironmentVariable("OBS_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(TestEnvironment.RepoRoot, "docs", "screenshots");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, name), overwrite: true);
        }
    }

    public static readonly BrowserNewContextOptions Desktop = new() { ViewportSize = new() { Width = 1280, Height = 800 }, Locale = "fr-FR", AcceptDownloads = true };
    public static readonly BrowserNewContextOptions Phone = new()
    {
        ViewportSize = new() { Width = 390, Height = 844 }, DeviceScaleFactor = 2, IsMobile = true, HasTouch = true, Locale = "fr-FR", AcceptDownloads = true,
    };

    /// <summary>
    /// Opens the page at <c>/{hash}</c> and waits for the first drawing. Every console error, page
    /// exception, failed request and HTTP error answer goes to <paramref name="problems"/>, which each
    /// journey asserts empty at its end.
    /// </summary>
    public async Task<IPage> OpenAsync(List<string> problems, string hash = "", bool phone = false, BrowserNewContextOptions? options = null, DateTime? clock = null)
    {
        var page = await OpenPageAsync(problems, "/" + hash, phone, options, clock);
        await page.WaitForSelectorAsync("#map[data-ready='1']");
        return page;
    }

    /// <summary>Clicks a link as a user would and returns the file the browser downloaded.</summary>
    public static async Task<byte[]> DownloadAsync(IPage page, string selector)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync(selector));
        Assert.Null(await download.FailureAsync());
        return await File.ReadAllBytesAsync((await download.PathAsync())!);
    }

    /// <summary>
    /// Any page of the site (<c>/contribuer</c>…), watched like the map; <paramref name="options"/> replace the
    /// desktop or phone ones (a time zone…), and <paramref name="clock"/> fixes the browser's clock (UTC).
    /// </summary>
    public async Task<IPage> OpenPageAsync(List<string> problems, string path, bool phone = false, BrowserNewContextOptions? options = null, DateTime? clock = null)
    {
        var context = await Browser.NewContextAsync(options ?? (phone ? Phone : Desktop));
        lock (contexts) contexts.Add(context);
        if (clock is { } t) await context.Clock.SetFixedTimeAsync(t);
        // The suite runs 4 test classes at once on 2 cores: a step that takes 1 s alone can take 20 s there
        // (the ATD journey: 12 s alone, 56 s in a full run). Bounds wide enough for a slower CI machine.
        context.SetDefaultTimeout(StepTimeoutMs);
        var page = await context.NewPageAsync();
        page.Console += (_, m) => { if (m.Type == "error") problems.Add($"console : {m.Text} @ {m.Location}"); };
        page.PageError += (_, e) => problems.Add("exception : " + e);
        page.RequestFailed += (_, r) => problems.Add($"requête échouée : {r.Url} ({r.Failure})");
        page.Response += (_, r) => { if (r.Status >= 400) problems.Add($"HTTP {r.Status} : {r.Url}"); };
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(BaseUrl, StringComparison.Ordinal) && !r.Url.StartsWith("data:", StringComparison.Ordinal) && !r.Url.StartsWith("blob:", StringComparison.Ordinal))
                problems.Add("hors du site : " + r.Url);
        };
        await page.GotoAsync(BaseUrl + path);
        return page;
    }

    /// <summary>axe-core (wwwroot-assets/node_modules/axe-core, installed by npm ci) on the page as it is: the violations, one line each.</summary>
    public static async Task<string[]> AxeViolationsAsync(IPage page)
    {
        var axe = Path.Combine(TestEnvironment.RepoRoot, "wwwroot-assets", "node_modules", "axe-core", "axe.min.js");
        // Evaluated through the DevTools protocol: an inline <script> tag would be refused by the page's CSP.
        if (await page.EvaluateAsync<bool>("typeof window.axe === 'undefined'"))
            await page.EvaluateAsync("source => { (0, eval)(source); }", await File.ReadAllTextAsync(axe));
        return await page.EvaluateAsync<string[]>("""
            async () => {
              const r = await axe.run(document, { resultTypes: ['violations'] });
              return r.violations.map(v => v.id + ' (' + v.impact + ') : ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
            }
            """);
    }

    /// <summary>Playwright's bound of one step (a wait, a click, a download) in these tests.</summary>
    public const int StepTimeoutMs = 90_000;

    /// <summary>
    /// Polls a condition with page evaluations (bounded: <see cref="StepTimeoutMs"/>). Playwright's WaitForFunction re-evaluates
    /// its string with eval() inside the page, which the page's Content-Security-Policy forbids.
    /// </summary>
    public static async Task WaitForAsync(IPage page, string condition)
    {
        for (var i = 0; i < StepTimeoutMs / 100; i++)
        {
            if (await page.EvaluateAsync<bool>(condition)) return;
            await Task.Delay(100);
        }
        Assert.Fail($"Condition jamais remplie en {StepTimeoutMs / 1000} s : " + condition);
    }

    /// <summary>Closes the pages this site opened (a test's DisposeAsync): a page left open keeps running beside the next tests.</summary>
    public async Task CloseContextsAsync()
    {
        IBrowserContext[] open;
        lock (contexts) { open = [.. contexts]; contexts.Clear(); }
        foreach (var c in open) await c.CloseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseContextsAsync();
        await app.DisposeAsync();
    }
}
