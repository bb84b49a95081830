using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

/// <summary>
/// Every <c>curl</c> example of the README, pasted into bash as written (only the port changes), against
/// the application on a real port over the loaded data: curl succeeds (HTTP 2xx), and the answer shown
/// after it (<c>→ {"open":705,…}</c>) is what the application answers, key by key.
/// </summary>
public sealed partial class ReadmeExamplesTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    const string ReadmeBase = "http://127.0.0.1:5080";

    [GeneratedRegex(@"`(curl [^`]+)`(?:\s*→\s*`([^`]+)`)?")]
    private static partial Regex CurlExample();

    // "key":value pairs of a shown answer; a value written … is only said to be there.
    [GeneratedRegex(@"""(\w+)"":(""[^""]*""|-?[0-9.]+|true|false|null|…|\[…\]|\{…\})")]
    private static partial Regex ShownPair();

    [Fact]
    public async Task Every_curl_example_of_the_readme_runs_as_written_and_answers_what_it_shows()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var examples = CurlExample().Matches(readme).Select(m => (Command: m.Groups[1].Value, Shown: m.Groups[2].Value)).ToList();
        Assert.True(examples.Count >= 10, $"{examples.Count} exemples curl trouvés dans le README");

        var port = Browser.MapSite.FreePort();
        await using var app = TestApp.On(db.ConnectionString, b => b.UseSetting("Urls", $"http://127.0.0.1:{port}"));
        app.UseKestrel(port);
        app.StartServer();
        var dir = Directory.CreateTempSubdirectory("obs-readme-").FullName;
        try
        {
            foreach (var (command, shown) in examples)
            {
                Assert.Contains(ReadmeBase, command);
                // --fail: an HTTP error is a failed command; the options may follow the URL.
                var (exit, output, err) = await BashAsync(dir, command.Replace(ReadmeBase, $"http://127.0.0.1:{port}") + " --fail --silent --show-error");
                Assert.True(exit == 0, $"{command}\n→ code {exit} : {err}");
                if (shown.Length == 0) continue;
                var answer = JsonDocument.Parse(output).RootElement;
                foreach (Match pair in ShownPair().Matches(shown))
                {
                    var key = pair.Groups[1].Value;
                    Assert.True(answer.TryGetProperty(key, out var actual), $"{command} : « {key} » absent de la réponse");
                    var value = pair.Groups[2].Value;
                    if (!value.Contains('…')) Assert.Equal(value, actual.GetRawText());
                }
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static async Task<(int, string, string)> BashAsync(string workingDirectory, string command)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// Every command of the README's « Command line » block, pasted into bash as written (the built
/// binary stands for <c>dotnet run --project src/Observatoire --</c>), from a folder holding the
/// repository's data/ and tests/ (the harvest's sample) like its root, on a database of its own (import-atd rewrites the ATD tables).
/// </summary>
[LongChain(35)]
public sealed class ReadmeCommandLineTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    const string Run = "dotnet run --project src/Observatoire --";

    [Fact]
    public async Task Every_command_line_example_of_the_readme_runs_as_written()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var block = readme[readme.IndexOf("## Command line", StringComparison.Ordinal)..];
        block = block[(block.IndexOf("```sh\n", StringComparison.Ordinal) + 6)..];
        var commands = block[..block.IndexOf("```", StringComparison.Ordinal)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(commands.Length >= 5, $"{commands.Length} commandes");
        var dir = Directory.CreateTempSubdirectory("obs-readme-cli-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(dir, "data"), TestEnvironment.DataDir);
            Directory.CreateSymbolicLink(Path.Combine(dir, "tests"), Path.Combine(TestEnvironment.RepoRoot, "tests"));
            foreach (var command in commands)
            {
                Assert.StartsWith(Run, command);
                var (exit, output, err) = await BashAsync(command, dir);
                Assert.True(exit == 0, $"{command}\n→ code {exit} : {err}\n{output}");
            }
            // The report went where it was asked, relative to the folder it was run from.
            Assert.True(File.Exists(Path.Combine(dir, "reports", "2022-10-19", "national.pdf")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>README lines pasted into bash (stopping at the first error), the built binary for « dotnet run », on this database.</summary>
    async Task<(int Exit, string Out, string Err)> BashAsync(string script, string workingDirectory)
    {
        var psi = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script.Replace(Run, $"dotnet '{Path.Combine(AppContext.BaseDirectory, "Observatoire.dll")}'")])
        { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["ConnectionStrings__Observatoire"] = db.ConnectionString;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, await err);
    }

    /// <summary>The « Contributions » block, pasted into bash as one script against a running server: it writes.</summary>
    [Fact]
    public async Task The_contributions_example_of_the_readme_runs_as_written()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var block = readme[readme.IndexOf("## Contributions", StringComparison.Ordinal)..];
        block = block[(block.IndexOf("```sh\n", StringComparison.Ordinal) + 6)..];
        var script = block[..block.IndexOf("```", StringComparison.Ordinal)];
        Assert.Contains("POST", script);

        var port = Browser.MapSite.FreePort();
        await using var app = TestApp.On(db.ConnectionString, b => b.UseSetting("Urls", $"http://127.0.0.1:{port}"));
        app.UseKestrel(port);
        app.StartServer();
        var (exit, output, err) = await BashAsync(script
            .Replace("curl ", "curl --fail --silent --show-error ")
            .Replace("http://127.0.0.1:5080", $"http://127.0.0.1:{port}"), Path.GetTempPath());
        Assert.True(exit == 0, $"code {exit} : {err}\n{output}");
        Assert.Contains("\"recordedBy\" : \"ATD Rennes Métropole\"", output);
        Assert.Contains("\"action\":\"observation.create\"", output);
        Assert.Equal(12L, await db.ScalarAsync<long>("select datasets_local from observation where source = 'contribution' and collectivite_id = 'COM-35047' and note = 'vu en atelier'"));
    }
}
