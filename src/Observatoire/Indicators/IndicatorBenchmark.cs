using System.Diagnostics;
using Npgsql;

namespace Observatoire.Indicators;

/// <summary>
/// <c>bench-indicators</c> (scripts/bench-status.sh): median time of the national indicators for one
/// date through <see cref="IndicatorQueries"/> (no cache exists in that layer), against the floor of the
/// same machine at the same moment: one bare SQL count of the open collectivités on that date. The ratio is what to
/// compare between machines; 2 shared cores make absolute times noisy.
/// </summary>
public static class IndicatorBenchmark
{
    public static async Task RunAsync(NpgsqlDataSource db, DateOnly? date, int runs, TextWriter log)
    {
        var q = new IndicatorQueries(db);
        var filter = new IndicatorFilter(Date: date);
        // The floor: the one count every answer needs, in bare SQL: the national scope's collectivités open
        // on the date (the derived column for the latest date, the runs of status_period for a past one).
        var floorSql = date is null
            ? "select count(*) from collectivite c where c.is_open and counts_nationally(c.type, c.is_overseas_collectivity)"
            : "select count(*) from collectivite c where c.id = any(array(select p.collectivite_id from status_period p where p.valid @> @d and p.is_open)) and counts_nationally(c.type, c.is_overseas_collectivity)";
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
