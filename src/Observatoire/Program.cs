using Observatoire;
using Observatoire.Data;
using Observatoire.Collectivites;
using Observatoire.Geo;
using Observatoire.Health;
using Observatoire.Indicators;
using Observatoire.OData;
using Observatoire.Search;
using Observatoire.Tiles;
using Observatoire.Reports;

var builder = WebApplication.CreateBuilder(args.Length > 0 && Cli.Verbs.Contains(args[0]) ? [] : args);

if (args.Length > 0 && Cli.Verbs.Contains(args[0]))
    return await Cli.RunAsync(args, builder.Configuration);

builder.Services.AddObservatoireDatabase(builder.Configuration);
builder.Services.AddFrenchProblemDetails();
builder.Services.AddIndicators();
builder.Services.AddObservatoireOData(builder.Configuration);
builder.Services.AddMap(builder.Configuration);

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMap();

app.MapHealth();
app.MapIndicators();
app.MapObservatoireOData();
app.MapGeo();
app.MapPlaceLabels();
app.MapTiles();
app.MapSearch();
app.MapCollectiviteCards();
app.MapReports();

app.Run();
return 0;

/// <summary>Entry point, public for WebApplicationFactory in the tests.</summary>
public partial class Program;
