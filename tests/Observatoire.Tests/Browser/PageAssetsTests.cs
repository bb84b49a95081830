using System.Text.RegularExpressions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Browser;

/// <summary>The pages' sources as files (no browser, no database).</summary>
public sealed class PageAssetsTests
{
    static readonly string Src = Path.Combine(TestEnvironment.RepoRoot, "wwwroot-assets", "src");

    /// <summary>
    /// Each page names every module it loads (its entry module and everything that imports, transitively)
    /// in a modulepreload link, so none waits for the one importing it; and no other.
    /// </summary>
    [Theory]
    [InlineData("index.html", "main.js")]
    [InlineData("contribuer.html", "contribuer.js")]
    public void Every_module_of_a_page_is_preloaded(string page, string entry)
    {
        var html = File.ReadAllText(Path.Combine(Src, page));
        Assert.Contains($"<script type=\"module\" src=\"js/{entry}\"></script>", html);
        var preloaded = Regex.Matches(html, "<link rel=\"modulepreload\" href=\"js/([a-z]+\\.js)\">").Select(m => m.Groups[1].Value).Order();
        var loaded = new SortedSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([entry]);
        while (queue.TryDequeue(out var module))
        {
            if (!loaded.Add(module)) continue;
            foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(Src, "js", module)), @"from '\./([a-z]+\.js)'"))
                queue.Enqueue(m.Groups[1].Value);
        }
        Assert.Equal(loaded, preloaded);
    }

    /// <summary>Every module belongs to a page.</summary>
    [Fact]
    public void No_module_is_left_unused()
    {
        var used = Regex.Matches(File.ReadAllText(Path.Combine(Src, "index.html")) + File.ReadAllText(Path.Combine(Src, "contribuer.html")),
            "href=\"js/([a-z]+\\.js)\"").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.All(Directory.EnumerateFiles(Path.Combine(Src, "js"), "*.js").Select(Path.GetFileName), f => Assert.Contains(f!, used));
    }
}
