using System.Runtime.CompilerServices;

namespace Observatoire.Tests.Infrastructure;

/// <summary>Settings every in-process application of the test run starts with.</summary>
static class TestDefaults
{
    /// <summary>
    /// All in-process requests come from one "client": the per-client rate limits would answer 429 to
    /// the suites that send hundreds of OData or report requests in seconds. They are off for the run
    /// (environment variables reach every WebApplicationFactory); the overload tests turn them back on.
    /// </summary>
    [ModuleInitializer]
    internal static void Init()
    {
        if (Environment.GetEnvironmentVariable("RateLimits__PerClient") is null)
            Environment.SetEnvironmentVariable("RateLimits__PerClient", "false");
    }
}
