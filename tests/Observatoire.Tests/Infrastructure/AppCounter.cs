using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// What a counter of one application (its own IMeterFactory scope, so not the other applications the
/// run starts in the same process) counts from now on.
/// </summary>
public sealed class AppCounter : IDisposable
{
    readonly MeterListener listener = new();
    long value;

    public AppCounter(IServiceProvider app, string meter, string instrument)
    {
        var scope = app.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Scope == scope && i.Meter.Name == meter && i.Name == instrument)
                l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref value, v));
        listener.Start();
    }

    public long Value => Interlocked.Read(ref value);
    public void Dispose() => listener.Dispose();
}
