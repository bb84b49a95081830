using System.Globalization;
using Npgsql;

namespace Observatoire.Indicators;

public sealed record ProgressPoint(DateOnly Date, int Open, string Kind, int? ObligedTotal, int? ObligedOpen, string? Note, string? Source);

public sealed record Trend(double? PerYear, int Points, string Method);

public sealed record Projection(DateOnly? Date, string Label, bool Reached);

/// <summary>National progress toward the programme goal, as served by <c>GET /api/progress</c>.</summary>
public sealed record Progress(
    int Open, int Goal, DateOnly AsOf, double Percent, long Obliged, long ObligedOpen, double? ObligedOpenRate,
    ProgressPoint? LatestPublished, IReadOnlyList<ProgressPoint> Series, Trend Trend, Projection Projection);

/// <summary>
/// Progress toward 2,000 open collectivités. Method (also in docs/status.md):
/// <list type="bullet">
/// <item><c>open</c>: collectivités proper (COM, EPCI, EPT, DEP, REG) open on <c>asOf</c> by the
///   observations (status_on), i.e. the same figure as the indicators.</item>
/// <item><c>series</c>: the published national counts (data/milestones.csv, kind <c>jalon</c>) and, for each
///   imported snapshot, the count derived from the observations (kind <c>observation</c>), dated ≤ asOf.</item>
/// <item>trend: ordinary least-squares slope (collectivités per year) over all series points.</item>
/// <item>projection: from the most recent series point, goal reached after (goal − count) / slope years.
///   A slope ≤ 0 gives no date. A projected date before <c>asOf</c> is not claimed (nothing observed since
///   confirms it): "pas avant ANNÉE(asOf)". Beyond 50 years: "pas avant ANNÉE(asOf)+50".</item>
/// </list>
/// </summary>
public sealed class ProgressQueries(NpgsqlDataSource db, IndicatorQueries indicators)
{
    public const int Goal = 2000;
    const int HorizonYears = 50;
    static readonly CultureInfo Fr = CultureInfo.GetCultureInfo("fr-FR");

    public async Task<Progress> ProgressAsync(DateOnly? asOf, CancellationToken ct = default)
    {
        var day = asOf ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var now = await indicators.ComputeAsync(new IndicatorFilter(Date: day), ct);

        var series = new List<ProgressPoint>();
        await using (var cmd = db.CreateCommand("""
            select observed_on, open_count, obliged_total, obliged_open, note, source, 'jalon' from milestone where observed_on <= $1
            union all
            select s.observed_on, x.open::int, x.obliged::int, x.obliged_open::int, 'décompte des observations (' || s.file || ')', s.source, 'observation'
              from status_snapshot s
              cross join lateral (
                   select count(*) filter (where st.is_open) as open, count(*) filter (where c.is_obliged) as obliged,
                          count(*) filter (where st.is_open and c.is_obliged) as obliged_open
                     from collectivite c join status_on(s.observed_on) st on st.collectivite_id = c.id
                    where c.type in ('COM','CC','CA','CU','MET','EPT','DEP','REG')) x
             where s.observed_on <= $1
             order by 1, 7
            """))
        {
            cmd.Parameters.AddWithValue(day);
            await using var rd = await cmd.ExecuteReaderAsync(ct);
            while (await rd.ReadAsync(ct))
                series.Add(new ProgressPoint(rd.GetFieldValue<DateOnly>(0), rd.GetInt32(1), rd.GetString(6),
                    rd.IsDBNull(2) ? null : rd.GetInt32(2), rd.IsDBNull(3) ? null : rd.GetInt32(3),
                    rd.IsDBNull(4) ? null : rd.GetString(4), rd.IsDBNull(5) ? null : rd.GetString(5)));
        }

        var trend = Slope(series);
        return new Progress((int)now.Open, Goal, day, Math.Round(100.0 * now.Open / Goal, 1), now.Obliged, now.ObligedOpen, now.ObligedOpenRate,
            series.LastOrDefault(p => p.Kind == "jalon"), series, trend, Project(series, trend.PerYear, (int)now.Open, day));
    }

    /// <summary>Least-squares slope of count over time (years), over all points.</summary>
    internal static Trend Slope(IReadOnlyList<ProgressPoint> points)
    {
        const string method = "moindres carrés (droite de régression du nombre de collectivités ouvertes sur la date, jalons publiés et observations)";
        if (points.Count < 2) return new Trend(null, points.Count, method);
        var xs = points.Select(p => p.Date.DayNumber / 365.2425).ToArray();
        var ys = points.Select(p => (double)p.Open).ToArray();
        double mx = xs.Average(), my = ys.Average();
        double sxx = xs.Sum(x => (x - mx) * (x - mx)), sxy = xs.Zip(ys).Sum(t => (t.First - mx) * (t.Second - my));
        return new Trend(sxx == 0 ? null : Math.Round(sxy / sxx, 1), points.Count, method);
    }

    internal static Projection Project(IReadOnlyList<ProgressPoint> series, double? perYear, int open, DateOnly asOf)
    {
        if (open >= Goal) return new Projection(asOf, "objectif atteint", true);
        var last = series.Count > 0 ? series[^1] : null;
        if (last is null || perYear is not > 0)
            return new Projection(null, "pas de projection : tendance nulle ou inconnue", false);
        if (last.Open >= Goal) return new Projection(last.Date, "objectif atteint", true);
        var days = (Goal - last.Open) / perYear.Value * 365.2425;
        if (days > HorizonYears * 365.2425) return new Projection(null, $"pas avant {asOf.Year + HorizonYears}", false);
        var date = last.Date.AddDays((int)Math.Ceiling(days));
        if (date < asOf) return new Projection(null, $"pas avant {asOf.Year}", false);
        return new Projection(date, "vers " + date.ToString("MMMM yyyy", Fr), false);
    }
}
