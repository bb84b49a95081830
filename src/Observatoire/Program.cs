using Observatoire;
using Observatoire.Api;
using Observatoire.Atds;
using Observatoire.Data;
using Observatoire.Collectivites;
using Observatoire.Contributions;
using Observatoire.Geo;
using Observatoire.Map;
using Observatoire.Hardening;
using Observatoire.Health;
using Observatoire.Indicators;
using Observatoire.OData;
using Observatoire.Search;
using Observatoire.Tiles;
using Observatoire.Reports;

// A first argument that is not an option is a command-line verb (Cli.cs); options (--urls …) go to the web server.
if (args.Length > 0 && (!args[0].StartsWith('-') || args[0] is "--help" or "-h"))
    return await Cli.RunAsync(args, Cli.Configuration(AppContext.BaseDirectory));

var builder = WebApplication.CreateBuilder(args);

var requestLimits = builder.Configuration.GetSection("Requests").Get<RequestLimits>() ?? new();
RequestGuards.ConfigureKestrel(builder, requestLimits);
builder.Services.AddObservatoireDatabase(builder.Configuration);
builder.Services.AddFrenchProblemDetails();
builder.Services.AddIndicators();
builder.Services.AddAtd();
builder.Services.AddObservatoireOData(builder.Configuration);
builder.Services.AddMap(builder.Configuration);
builder.Services.AddReports();
builder.Services.AddSecurityHeaders();
builder.Services.AddContributorAuth(builder.Configuration);
builder.Services.AddOverloadLimits(builder.Configuration);
builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
builder.Services.AddExceptionHandler<RouteValueExceptionHandler>();

var app = builder.Build();
app.UseSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestGuards(requestLimits);
// Explicit, so that an exception thrown while matching a route (OData keys and function parameters)
// reaches the exception handler above instead of escaping as an empty 500.
app.UseRouting();
app.UseMap();
// After the output cache and static files: cached answers never wait for a permit.
app.UseRateLimiter();

app.MapHealth();
app.MapIndicators();
app.MapChanges();
app.MapAtd();
app.MapObservatoireOData();
app.MapGeo();
app.MapPlaceLabels();
app.MapTiles();
app.MapSearch();
app.MapCollectiviteCards();
app.MapReports();
app.MapContributions();

app.Run();
return 0;

/// <summary>Entry point, public for WebApplicationFactory in the tests.</summary>
public partial class Program;
