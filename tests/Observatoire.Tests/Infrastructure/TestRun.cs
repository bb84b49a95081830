using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("Observatoire.Tests.Infrastructure.TestRun", "Observatoire.Tests")]

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// xunit's test framework with a cleanup at the end of the run: what lives for the whole run is closed
/// (the browser tests' Chromium) and the databases made for it (templates, the shared copy) are dropped when the framework is disposed, before the test host
/// exits (a ProcessExit handler is not always given the time).
/// </summary>
public sealed class TestRun(IMessageSink messageSink) : XunitTestFramework(messageSink), IDisposable
{
    static readonly List<string> ToDrop = [];
    static readonly List<Func<Task>> ToDispose = [];

    /// <summary>What lives for the whole run and is closed at its end (the browser tests' Chromium).</summary>
    public static void DisposeAtEnd(Func<Task> dispose)
    {
        lock (ToDispose) ToDispose.Add(dispose);
    }

    public static void DropAtEnd(string connectionString)
    {
        lock (ToDrop) ToDrop.Add(connectionString);
    }

    public new void Dispose()
    {
        Func<Task>[] disposals;
        lock (ToDispose) { disposals = [.. ToDispose]; ToDispose.Clear(); }
        foreach (var d in disposals) d().GetAwaiter().GetResult();
        string[] all;
        lock (ToDrop) { all = [.. ToDrop]; ToDrop.Clear(); }
        // The shared copy first: a template cannot be dropped while a copy of it is being made, and
        // nothing is being made any more.
        foreach (var cs in Enumerable.Reverse(all)) TestEnvironment.DropDatabaseAsync(cs).GetAwaiter().GetResult();
        base.Dispose();
    }
}
