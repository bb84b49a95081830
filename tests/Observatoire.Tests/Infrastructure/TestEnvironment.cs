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

    /// <summary>Creates an empty database with a unique name; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"obs_test_{prefix}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using (var admin = new NpgsqlConnection(AdminConnection))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"create database \"{name}\"", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnection) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(AdminConnection);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", admin);
        await cmd.ExecuteNonQueryAsync();
    }
}
