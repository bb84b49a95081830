using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Cli;

/// <summary>
/// The command line as a user runs it: the built program started from another folder (a temporary
/// one), its settings found next to it, relative paths taken from that folder.
/// </summary>
public sealed class CliTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    /// <summary>Runs the application's binary (copied next to the tests by the build) in <paramref name="workingDirectory"/>.</summary>
    static async Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, string? connectionString, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Observatoire.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (connectionString is not null) psi.Environment["ConnectionStrings__Observatoire"] = connectionString;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"« {string.Join(' ', args)} » ne s'est pas terminé en 120 s (serveur web démarré ?)");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task An_unknown_verb_prints_the_usage_and_fails_instead_of_starting_the_server()
    {
        var (exit, _, err) = await RunAsync(Path.GetTempPath(), null, "imprt");
        Assert.Equal(64, exit);
        Assert.Contains("Commande inconnue : imprt", err);
        Assert.Contains("import-status FICHIER", err);
    }

    [Fact]
    public async Task A_relative_path_is_taken_from_the_folder_the_command_is_run_from()
    {
        var dir = Directory.CreateTempSubdirectory("obs-cli-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "instantanes"));
            File.Copy(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv"), Path.Combine(dir, "instantanes", "odf.csv"));
            // A dry run (--essai): read, matched and reported, nothing written to the shared database.
            var (exit, output, err) = await RunAsync(dir, db.ConnectionString, "import-status", "instantanes/odf.csv", "--date", "2022-10-19", "--essai");
            Assert.True(exit == 0, err);
            Assert.Contains("Instantané odf-2022-10-19 (odf.csv) — essai à blanc, rien n'est écrit : ", output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void The_settings_are_read_next_to_the_binary_and_the_local_file_written_by_run_sh_wins()
    {
        var project = Directory.CreateTempSubdirectory("obs-cli-").FullName;
        try
        {
            var bin = Directory.CreateDirectory(Path.Combine(project, "bin", "Release", "net10.0")).FullName;
            File.WriteAllText(Path.Combine(bin, "appsettings.json"), """{ "ConnectionStrings": { "Observatoire": "Port=5433" }, "Map": { "MaxZoom": 18 } }""");
            Assert.Equal("Port=5433", Observatoire.Cli.Configuration(bin).GetConnectionString("Observatoire"));
            // scripts/run.sh --pg-port 5440 writes src/Observatoire/appsettings.Local.json, above bin/.
            File.WriteAllText(Path.Combine(project, Observatoire.Cli.LocalSettingsFile), """{ "ConnectionStrings": { "Observatoire": "Port=5440" } }""");
            var config = Observatoire.Cli.Configuration(bin);
            Assert.Equal("Port=5440", config.GetConnectionString("Observatoire"));
            Assert.Equal(18, config.GetValue<int>("Map:MaxZoom"));
        }
        finally { Directory.Delete(project, recursive: true); }
    }

    [Fact]
    public async Task A_verb_without_a_connection_string_says_where_the_settings_are_expected()
    {
        var config = new ConfigurationBuilder().Build();
        var err = new StringWriter();
        var previous = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.Equal(3, await Observatoire.Cli.RunAsync(["migrate"], config));
        }
        finally { Console.SetError(previous); }
        Assert.Contains("ConnectionStrings__Observatoire", err.ToString());
        Assert.Contains("appsettings.Local.json", err.ToString());
    }
}
