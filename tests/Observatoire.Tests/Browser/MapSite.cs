using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>
/// The application on a real Kestrel port (a browser cannot reach WebApplicationFactory's in-memory
/// TestServer) over the loaded test database, and Debian's Chromium driven by Playwright. Playwright
/// cannot download its browsers here: <c>apt-get install -y chromium</c> (scripts/test.sh does it).
/// </summary>
public sealed class MapSite : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public string BaseUrl { get; }
    public IBrowser Browser { get; }
    readonly WebApplicationFactory<Program> app;
    readonly IPlaywright playwright;

    MapSite(string baseUrl, WebApplicationFactory<Program> app, IPlaywright playwright, IBrowser browser)
    {
        BaseUrl = baseUrl; this.app = app; this.playwright = playwright; Browser = browser;
    }

    public static async Task<MapSite> StartAsync(LoadedDatabase db)
    {
        var port = FreePort();
        var app = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:Observatoire", db.ConnectionString)
            .UseSetting("Urls", $"http://127.0.0.1:{port}"));
        app.UseKestrel(port);
        app.StartServer();
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Keep Chromium off the (closed) network: no update checks, no field trials.
            Args = ["--disable-background-networking", "--disable-component-update", "--no-sandbox", "--lang=fr-FR"],
        });
        return new MapSite($"http://localhost:{port}", app, playwright, browser);
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Screenshots go to out/screenshots; with OBS_SCREENSHOTS=1 also to docs/screenshots (committed, shown in the README).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var outDir = Path.Combine(TestEnvironment.RepoRoot, "out", "screenshots");
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        if (Environment.GetEnvironmentVariable("OBS_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(TestEnvironment.RepoRoot, "docs", "screenshots");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, name), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
        await app.DisposeAsync();
    }
}
