using Observatoire;
using Observatoire.Data;
using Observatoire.Health;
using Observatoire.Reports;

var builder = WebApplication.CreateBuilder(args.Length > 0 && Cli.Verbs.Contains(args[0]) ? [] : args);

if (args.Length > 0 && Cli.Verbs.Contains(args[0]))
    return await Cli.RunAsync(args, builder.Configuration);

builder.Services.AddObservatoireDatabase(builder.Configuration);
builder.Services.AddProblemDetails();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapHealth();
app.MapReports();

app.Run();
return 0;

/// <summary>Entry point, public for WebApplicationFactory in the tests.</summary>
public partial class Program;
