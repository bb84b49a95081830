using System.Diagnostics;
using Npgsql;

namespace Observatoire.Indicators;

/// <summary>
/// <c>bench-indicators</c> (scripts/bench-status.sh): median time of the national indicators for one
/// date through <see cref="IndicatorQueries"/> (no cache exists in that layer), against the floor of the
/// same machine at the same moment: one bare SQL pass counting the same table. The ratio is what to
/// compare between machines; 2 shared cores make absolute times noisy.
/// </summary>
public static class IndicatorBenchmark
{
    public static async Task RunAsync(NpgsqlDataSource db, DateOnly? date, int runs, TextWriter log)
    {
        var q = new IndicatorQueries(db);
        var filter = new IndicatorFilter(Date: date);
        var floorSql = date is null
            ? "select count(*), count(*) filter (where is_open), count(*) filter (where is_obliged) from collectivite"
            : "select count(*), count(*) filter (where s.is_open), count(*) filter (where c.is_obliged) from collectivite c join status_on(@d) s on s.collectivite_id = c.id";
        for (var i = 0; i < 3; i++) { await q.ComputeAsync(filter); await Floor(); } // warm the pool and the plan cache

        var layer = new List<double>();
        var floor = new List<double>();
        IndicatorSet? last = null;
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            last = await q.ComputeAsync(filter);
            layer.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            await Floor();
            floor.Add(sw.Elapsed.TotalMilliseconds);
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        log.WriteLine($"indicateurs nationaux ({(date is null ? "dernières observations" : date.Value.ToString("yyyy-MM-dd"))}), {runs} mesures :");
        log.WriteLine($"  couche d'indicateurs : médiane {Median(layer):F1} ms, max {layer.Max():F1} ms");
        log.WriteLine($"  plancher SQL         : médiane {Median(floor):F1} ms");
        log.WriteLine($"  rapport              : {Median(layer) / Median(floor):F1}");
        log.WriteLine($"  résultat : {last}");

        async Task Floor()
        {
            await using var cmd = db.CreateCommand(floorSql);
            if (date is { } d) cmd.Parameters.AddWithValue("d", d);
            await using var rd = await cmd.ExecuteReaderAsync();
            await rd.ReadAsync();
        }
    }
}
