using Npgsql;

namespace Observatoire.Tests.Infrastructure;

/// <summary>Where the repository and the test PostgreSQL cluster are (set by scripts/test.sh).</summary>
public static class TestEnvironment
{
    public static string RepoRoot { get; } = FindRepo();

    public static string DataDir => Path.Combine(RepoRoot, "data");

    /// <summary>A connection to the cluster's maintenance database, used to create and drop test databases.</summary>
    public static string AdminConnection =>
        Environment.GetEnvironmentVariable("OBS_TEST_ADMIN_CONNECTION")
        ?? "Host=127.0.0.1;Port=5433;Username=postgres;Database=postgres";

    static string FindRepo()
    {
        if (Environment.GetEnvironmentVariable("OBS_REPO") is { Length: > 0 } r) return r;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Observatoire.sln"))) return d.FullName;
        throw new InvalidOperationException("Observatoire.sln introuvable au-dessus de " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Creates a database with a unique name, empty or as a copy of <paramref name="template"/> (a database
    /// nobody is connected to); returns its connection string.
    /// </summary>
    public static async Task<string> CreateDatabaseAsync(string prefix, string? template = null)
    {
        var name = $"obs_test_{prefix}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using (var admin = new NpgsqlConnection(AdminConnection))
        {
            await admin.OpenAsync();
            var sql = template is null ? $"create database \"{name}\"" : $"create database \"{name}\" template \"{template}\" strategy file_copy";
            await using var cmd = new NpgsqlCommand(sql, admin) { CommandTimeout = 300 };
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnection) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        // "with (force)" ends the sessions still open on it (this process's pools included).
        await using var admin = new NpgsqlConnection(AdminConnection);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", admin) { CommandTimeout = 120 };
        await cmd.ExecuteNonQueryAsync();
    }
}
