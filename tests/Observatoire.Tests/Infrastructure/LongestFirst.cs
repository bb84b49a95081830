using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("Observatoire.Tests.Infrastructure.LongestFirst", "Observatoire.Tests")]

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// The tests of a collection run one after the other; collections run side by side, up to
/// maxParallelThreads, started in this order. Started late, a long collection was the run's tail, on
/// one core of two (the browser collection, 86 s alone, began at 173 s of a 259 s run on 2026-12-01).
/// Longest first, the short ones fill the end.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LongChainAttribute(int seconds) : Attribute
{
    /// <summary>The collection's tests' summed duration in a full run (out/test-results), only to order them.</summary>
    public int Seconds { get; } = seconds;
}

public sealed class LongestFirst : ITestCollectionOrderer
{
    const string PerClassPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> collections) =>
        collections.OrderByDescending(Seconds).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    static int Seconds(ITestCollection c)
    {
        // An explicit [CollectionDefinition] carries the attribute; a class in its own collection carries it itself.
        var type = c.CollectionDefinition?.ToRuntimeType()
            ?? (c.DisplayName.StartsWith(PerClassPrefix, StringComparison.Ordinal)
                ? typeof(LongestFirst).Assembly.GetType(c.DisplayName[PerClassPrefix.Length..]) : null);
        return type?.GetCustomAttributes(typeof(LongChainAttribute), false) is [LongChainAttribute a, ..] ? a.Seconds : 0;
    }
}
