using Microsoft.AspNetCore.OData;
using Microsoft.AspNetCore.OData.Query.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Observatoire.OData;

/// <summary>Wiring of the OData API under /odata (issue #4) and its limits.</summary>
public static class ODataSetup
{
    /// <summary>Rows per response: every response is bounded, the rest is reached through @odata.nextLink.</summary>
    public const int PageSize = 1000;
    public const int MaxTop = 1000;
    /// <summary>Deep offsets are slow; 50,000 reaches every collectivité (36,362) with room for the next vintage.</summary>
    public const int MaxSkip = 50_000;
    public const int MaxExpansionDepth = 2;
    public const int MaxNodeCount = 200;
    public const int MaxAnyAllDepth = 2;
    public const int MaxOrderByNodeCount = 5;

    public static IServiceCollection AddObservatoireOData(this IServiceCollection services, IConfiguration config)
    {
        var commandTimeout = config.GetValue("Limits:CommandTimeoutSeconds", 30);
        services.AddDbContextPool<ODataDb>((sp, o) => o
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), n => n.CommandTimeout(commandTimeout))
            .UseSnakeCaseNamingConvention()
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            // Tests register an interceptor to see every SQL statement an OData request sends.
            .AddInterceptors(sp.GetServices<IDbCommandInterceptor>()));
        services.AddSingleton<PlainPageWriter>();
        services.AddControllers().AddOData(o => o
            .Select().Filter().OrderBy().Expand().Count().SetMaxTop(MaxTop)
            .AddRouteComponents("odata", ODataModel.Build(), s => s.AddSingleton<ISearchBinder, CollectiviteSearchBinder>()));
        return services;
    }

    /// <summary>Maps the OData controllers and puts every /odata error (including 404 and crashes) in the OData error format.</summary>
    public static WebApplication MapObservatoireOData(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/odata"), branch => branch.Use(async (ctx, next) =>
        {
            try
            {
                await next(ctx);
            }
            catch (Exception e) when (!ctx.Response.HasStarted)
            {
                var err = ODataErrors.FromException(e);
                if (err is null)
                    ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Observatoire.OData")
                        .LogError(e, "Erreur OData sur {Url}", ctx.Request.Path + ctx.Request.QueryString);
                await ODataErrors.WriteAsync(ctx, err ?? ODataErrors.ForStatus(500));
                return;
            }
            if (ctx.Response.StatusCode >= 400 && !ctx.Response.HasStarted && ctx.Response.ContentType is null)
                await ODataErrors.WriteAsync(ctx, ODataErrors.ForStatus(ctx.Response.StatusCode));
        }));
        app.MapControllers();
        if (app.Configuration.GetValue("Benchmark:SqlFloor", false)) app.MapSqlFloor();
        return app;
    }
}
