using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Observatoire.Tests.Infrastructure;

/// <summary>The application, in-process (WebApplicationFactory), on a given database.</summary>
public static class TestApp
{
    /// <summary>
    /// Loggers whose errors the tests provoke on purpose: a query PostgreSQL refuses (OData
    /// <c>$filter=Population div 0 eq 1</c>, answered 400) and OData's own route matchers (a key or a
    /// function parameter of the wrong type, answered 400/404). Their stack traces would fill a green
    /// run's log; the tests check the answers instead. Every other error is still written.
    /// </summary>
    static readonly string[] ExpectedErrorSources =
    [
        "Microsoft.EntityFrameworkCore.Database.Command",
        "Microsoft.EntityFrameworkCore.Query",
        "ODataFunctionParameterMatcher",
        "Microsoft.AspNetCore.OData.Routing",
    ];

    public static WebApplicationFactory<Program> On(string connectionString, Action<IWebHostBuilder>? configure = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Observatoire", connectionString);
            // The tests share a loaded 2-core machine where a 300 ms OData query can take 10 s: a wide
            // budget keeps them about answers; the budget's own test sets a short one.
            b.UseSetting("OData:RequestBudgetSeconds", "120");
            // A rule for the category itself: more specific than appsettings.json's, so it is the one applied.
            b.ConfigureLogging(l =>
            {
                foreach (var category in ExpectedErrorSources) l.AddFilter(category, LogLevel.Critical);
            });
            configure?.Invoke(b);
        });
}
