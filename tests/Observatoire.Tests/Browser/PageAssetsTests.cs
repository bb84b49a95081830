using System.Text.RegularExpressions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>The page's sources as files (no browser, no database).</summary>
public sealed class PageAssetsTests
{
    /// <summary>The page names every module in a modulepreload link, so none waits for the one importing it.</summary>
    [Fact]
    public void Every_module_of_the_page_is_preloaded()
    {
        var src = Path.Combine(TestEnvironment.RepoRoot, "wwwroot-assets", "src");
        var html = File.ReadAllText(Path.Combine(src, "index.html"));
        var preloaded = Regex.Matches(html, "<link rel=\"modulepreload\" href=\"js/([a-z]+\\.js)\">").Select(m => m.Groups[1].Value).Order();
        var modules = Directory.EnumerateFiles(Path.Combine(src, "js"), "*.js").Select(Path.GetFileName).Order();
        Assert.Equal(modules, preloaded);
    }
}
