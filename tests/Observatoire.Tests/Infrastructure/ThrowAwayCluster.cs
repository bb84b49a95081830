using System.Diagnostics;
using Npgsql;
using Observatoire.Data;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of its own that a test may stop and start (port 5500-5549, data under
/// /var/tmp, loopback only, migrated, empty): outages are never played on the shared cluster.
/// </summary>
public sealed class ThrowAwayCluster : IAsyncDisposable
{
    const string PgBin = "/usr/lib/postgresql/15/bin";
    public int Port { get; } = 5500 + Random.Shared.Next(0, 50);
    readonly string dir = Path.Combine("/var/tmp", $"obs-cluster-{Guid.NewGuid():N}");
    string StartOptions => $"-p {Port} -c listen_addresses=127.0.0.1 -k {dir}";

    public string ConnectionString(int maxPool = 20) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Maximum Pool Size={maxPool};Timeout=5";

    public static async Task<ThrowAwayCluster> CreateAsync()
    {
        var c = new ThrowAwayCluster();
        Directory.CreateDirectory(c.dir);
        if (Environment.UserName == "root") await Process.Start("chown", ["postgres:postgres", c.dir])!.WaitForExitAsync();
        await Run(Path.Combine(PgBin, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8");
        await c.StartAsync();
        await using var ds = Database.CreateDataSource(c.ConnectionString());
        await Migrator.MigrateAsync(ds, TextWriter.Null);
        return c;
    }

    public Task StartAsync() => Run(Path.Combine(PgBin, "pg_ctl"), "-D", dir, "-l", Path.Combine(dir, "server.log"), "-w", "-o", StartOptions, "start");

    /// <summary>fast: a clean shutdown; immediate: a crash (the WAL is replayed at the next start).</summary>
    public Task StopAsync(string mode = "fast") => Run(Path.Combine(PgBin, "pg_ctl"), "-D", dir, "-m", mode, "-w", "stop");

    static async Task Run(string file, params string[] args)
    {
        var asPostgres = Environment.UserName == "root";
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres) foreach (var a in new[] { "-u", "postgres", "--", file }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} : {await error}{await output}");
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopAsync("immediate"); } catch (InvalidOperationException) { /* already stopped */ }
        NpgsqlConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }
}
