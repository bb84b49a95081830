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
    /// <summary>
    /// Rows per page, at the top level and in each expanded collection, when $expand reaches a
    /// collection (Members, Observations, Atds, Collectivites): 100 x 100 rows at most in one answer;
    /// with a collection inside a collection, 20 x 20 x 20.
    /// </summary>
    public const int ExpandPageSize = 100;
    public const int NestedExpandPageSize = 20;
    /// <summary>
    /// $top only says how many rows the client wants in all: pages of PageSize bound every answer and
    /// @odata.nextLink carries the rest (Power Query's "keep top rows" sends $top=5000).
    /// </summary>
    public const int MaxTop = 1_000_000;
    /// <summary>Deep offsets are slow; 50,000 reaches every collectivité (36,362) with room for the next vintage.</summary>
    public const int MaxSkip = 50_000;
    public const int MaxExpansionDepth = 2;
    /// <summary>Enough for the 100-value 'or' chain of 'eq' that a Power Query filter list sends (about 400 nodes).</summary>
    public const int MaxNodeCount = 1000;
    public const int MaxAnyAllDepth = 2;
    public const int MaxOrderByNodeCount = 5;

    public static IServiceCollection AddObservatoireOData(this IServiceCollection services, IConfiguration config)
    {
        var limits = ODataLimits.From(config);
        services.AddSingleton(limits);
        services.AddSingleton<IStartupFilter, ODataGuardStartupFilter>();
        // The request budget cancels the command through the request's token; the command timeout is
        // the backstop for the library's synchronous path ($levels), which reads without a token.
        var commandTimeout = (int)Math.Ceiling(limits.RequestBudget.TotalSeconds);
        services.AddDbContextPool<ODataDb>((sp, o) => o
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), n => n.CommandTimeout(commandTimeout))
            .UseSnakeCaseNamingConvention()
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            // Tests register an interceptor to see every SQL statement an OData request sends.
            .AddInterceptors(sp.GetServices<IDbCommandInterceptor>()));
        services.AddSingleton<PlainPageWriter>();
        services.AddOutputCache(o => o.AddPolicy(ODataCachePolicy.Name,
            new ODataCachePolicy(config.GetValue("OData:CacheResponses", true), Math.Max(1, config.GetValue("Map:OutputCacheMinutes", 60)),
                config.GetValue("OData:CacheMinUses", 2))));
        services.AddControllers().AddOData(o =>
        {
            o.Select().Filter().OrderBy().Expand().Count().SetMaxTop(MaxTop)
                .AddRouteComponents("odata", ODataModel.Instance, s => s.AddSingleton<ISearchBinder, CollectiviteSearchBinder>());
            o.Conventions.Add(new EntityPathsConvention());
        });
        return services;
    }

    /// <summary>
    /// Maps the OData controllers and puts every error of a controller (including 404 and crashes) in the
    /// OData error format, before the app's exception handler and status pages see it; ODataGuard, in
    /// front of routing, does the rest (budget, buffering, HEAD, 405/501).
    /// </summary>
    public static WebApplication MapObservatoireOData(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/odata"), branch => branch.Use(async (ctx, next) =>
        {
            try
            {
                await next(ctx);
            }
            // A cancelled request (the client left, or the budget ran out: ODataGuard tells which) is not
            // an error of the service: ODataGuard answers it, without a stack trace in the log.
            catch (Exception e) when (!ctx.Response.HasStarted && !ctx.RequestAborted.IsCancellationRequested)
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
        app.MapControllers().CacheOutput(ODataCachePolicy.Name);
        if (app.Configuration.GetValue("Benchmark:SqlFloor", false)) app.MapSqlFloor();
        return app;
    }
}
