using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Observatoire.Data;

/// <summary>Wiring of the one PostgreSQL data source used by EF, the importers and the raw-SQL endpoints.</summary>
public static class Database
{
    public const string ConnectionName = "Observatoire";

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var b = new NpgsqlDataSourceBuilder(connectionString);
        b.UseNetTopologySuite();
        return b.Build();
    }

    public static IServiceCollection AddObservatoireDatabase(this IServiceCollection services, IConfiguration config)
    {
        var cs = config.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} manquant dans la configuration.");
        var commandTimeout = config.GetValue("Limits:CommandTimeoutSeconds", 30);
        services.AddSingleton(_ => CreateDataSource(cs));
        services.AddDbContext<ObservatoireDb>((sp, o) => o
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), n =>
            {
                n.UseNetTopologySuite();
                n.CommandTimeout(commandTimeout);
            })
            .UseSnakeCaseNamingConvention()
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking));
        return services;
    }
}
