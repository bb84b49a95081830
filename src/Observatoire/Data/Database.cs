using Npgsql;

namespace Observatoire.Data;

/// <summary>Wiring of the one PostgreSQL data source used by the importers, the raw-SQL endpoints and OData's EF context.</summary>
public static class Database
{
    public const string ConnectionName = "Observatoire";

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var b = new NpgsqlDataSourceBuilder(connectionString);
        // The API sends the same few parameterised statements again and again: prepared automatically,
        // PostgreSQL plans them once per connection instead of once per request (planning the OData
        // page query costs about 2 ms, its execution about 1 ms).
        if (b.ConnectionStringBuilder.MaxAutoPrepare == 0) b.ConnectionStringBuilder.MaxAutoPrepare = 64;
        // No parallel plans: on the data the observatoire holds (36,000 collectivités, a few thousand status
        // runs) starting a plan's workers costs more than they save. Measured on a 2-core machine
        // (docs/benchmarks.md): /api/indicators?by=departement 231 → 137 ms, an OData groupby of the statuses
        // 88 → 22 ms; with ten years of synthetic monthly history (4.1 million observations) a dated breakdown
        // is 10–15 % slower without them. A setting given in the connection string's Options wins.
        var options = b.ConnectionStringBuilder.Options ?? "";
        if (!options.Contains("max_parallel_workers_per_gather", StringComparison.Ordinal))
            b.ConnectionStringBuilder.Options = (options + " -c max_parallel_workers_per_gather=0").Trim();
        b.UseNetTopologySuite();
        return b.Build();
    }

    /// <summary>The data source, a singleton: the raw-SQL endpoints use it directly, OData's EF context on top of it.</summary>
    public static IServiceCollection AddObservatoireDatabase(this IServiceCollection services, IConfiguration config)
    {
        var cs = config.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} manquant dans la configuration.");
        return services.AddSingleton(_ => CreateDataSource(cs));
    }
}
