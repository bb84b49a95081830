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
