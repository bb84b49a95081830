using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Observatoire.Indicators;

/// <summary>A point of the progress curve: a published edition's count, or a count of the observations.</summary>
public sealed record ProgressPoint(DateOnly Date, int Open, string Kind, int? ObligedTotal, int? ObligedOpen, string? Note, string? Source);

public static class ProgressKind
{
    /// <summary>A count published by an edition of the observatoire (data/milestones.csv), as published.</summary>
    public const string Published = "published";
    /// <summary>A count of the observations in the database (open collectivités on that date, national scope).</summary>
    public const string Observed = "observed";
}

public sealed record Trend(double? PerYear, int Points, string Method);

/// <summary><see cref="Date"/>: when the trend line reaches the goal (null when it never does or no trend is known).</summary>
public sealed record Projection(DateOnly? Date, string Label, bool Reached, string Method);

/// <summary>National progress toward the programme goal, as served by <c>GET /api/progress</c>.</summary>
public sealed record Progress(
    int? Open, int Goal, DateOnly AsOf, bool Observed, DateOnly? LastObservation, DateOnly? LastCensus, double? Percent,
    long Obliged, long? ObligedOpen, double? ObligedOpenRate, string ObligationNote,
    ProgressPoint? LatestPublished, IReadOnlyList<ProgressPoint> Series, Trend Trend, Projection Projection);

/// <summary>
/// The projection toward the 2,000 goal: THE one place it is computed (the API, the map and the
/// reports call it). Method: the least-squares line of the count against time, through the published
/// editions and the observed counts dated after the last published edition (before it, the published
/// count is the programme's own figure and our re-count of the same period on the current COG would
/// lower the slope by mixing two definitions); the projected date is where that line reaches the goal.
/// Indicative only: "at the average pace of the points", not a forecast.
/// </summary>
public static class GoalProjection
{
    public const int Goal = 2000;
    const int HorizonYears = 50;
    static readonly CultureInfo Fr = CultureInfo.GetCultureInfo("fr-FR");

    public const string Method =
        "droite des moindres carrés du nombre de collectivités ouvertes en fonction du temps, sur les comptes publiés des éditions "
        + "et les comptes observés postérieurs à la dernière édition publiée ; la date projetée est celle où la droite atteint 2 000";

    /// <summary>The points the trend is fitted on (see the class summary).</summary>
    public static IReadOnlyList<ProgressPoint> TrendPoints(IReadOnlyList<ProgressPoint> series)
    {
        var lastPublished = series.Where(p => p.Kind == ProgressKind.Published).Select(p => (DateOnly?)p.Date).Max();
        return series.Where(p => p.Kind == ProgressKind.Published || lastPublished is null || p.Date > lastPublished).ToList();
    }

    public static Trend Slope(IReadOnlyList<ProgressPoint> series)
    {
        var points = TrendPoints(series);
        if (points.Select(p => p.Date).Distinct().Count() < 2) return new Trend(null, points.Count, Method);
        var xs = points.Select(p => Years(p.Date)).ToArray();
        var ys = points.Select(p => (double)p.Open).ToArray();
        double mx = xs.Average(), my = ys.Average();
        double sxx = xs.Sum(x => (x - mx) * (x - mx)), sxy = xs.Zip(ys).Sum(t => (t.First - mx) * (t.Second - my));
        return new Trend(Math.Round(sxy / sxx, 1), points.Count, Method);
    }

    public static Projection Project(IReadOnlyList<ProgressPoint> series, int? open, DateOnly asOf)
    {
        if (open >= Goal) return new Projection(asOf, "objectif atteint", true, Method);
        var points = TrendPoints(series);
        if (points.Count > 0 && points[^1].Open >= Goal) return new Projection(points[^1].Date, "objectif atteint", true, Method);
        if (points.Select(p => p.Date).Distinct().Count() < 2)
            return new Projection(null, "pas de projection : il faut au moins deux comptes à des dates différentes", false, Method);
        var xs = points.Select(p => Years(p.Date)).ToArray();
        var ys = points.Select(p => (double)p.Open).ToArray();
        double mx = xs.Average(), my = ys.Average();
        double sxx = xs.Sum(x => (x - mx) * (x - mx)), sxy = xs.Zip(ys).Sum(t => (t.First - mx) * (t.Second - my));
        var slope = sxy / sxx;
        if (slope <= 0) return new Projection(null, "pas de projection : la tendance ne progresse pas", false, Method);
        var atGoal = mx + (Goal - my) / slope;   // in years since 0001-01-01
        if (atGoal > Years(asOf) + HorizonYears) return new Projection(null, $"pas avant {asOf.Year + HorizonYears}", false, Method);
        var date = DateOnly.FromDayNumber((int)Math.Round(atGoal * 365.2425));
        // A date already past is not claimed: nothing observed confirms it.
        if (date < asOf) return new Projection(null, $"pas avant {asOf.Year}", false, Method);
        return new Projection(date, "vers " + date.ToString("MMMM yyyy", Fr), false, Method);
    }

    static double Years(DateOnly d) => d.DayNumber / 365.2425;
}

/// <summary>
/// Progress toward 2,000 open collectivités (method in docs/status.md): <c>open</c> is the national
/// indicator on <c>asOf</c> (null when nothing is observed on or before it); the series are the published
/// editions and the observed counts on each observation date, labelled by <see cref="ProgressKind"/>; the
/// trend and projection come from <see cref="GoalProjection"/>.
/// </summary>
public sealed class ProgressQueries(NpgsqlDataSource db, IndicatorQueries indicators)
{
    public async Task<Progress> ProgressAsync(DateOnly? asOf, CancellationToken ct = default)
    {
        var day = asOf ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var now = await indicators.ComputeAsync(new IndicatorFilter(Date: day), ct);
        var last = await indicators.LastObservationAsync(ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        DateOnly? census;
        await using (var cmd = new NpgsqlCommand("select last_census()", conn))
            census = await cmd.ExecuteScalarAsync(ct) as DateOnly?;
        var series = await SeriesAsync(conn, day, null, null, ct);
        var open = now.Open is { } o ? (int)o : (int?)null;
        return new Progress(open, GoalProjection.Goal, day, now.Observed, last, census,
            open is { } n ? Math.Round(100.0 * n / GoalProjection.Goal, 1) : null,
            now.Obliged, now.ObligedOpen, now.ObligedOpenRate, IndicatorQueries.ObligationNote,
            series.LastOrDefault(p => p.Kind == ProgressKind.Published), series,
            GoalProjection.Slope(series), GoalProjection.Project(series, open, day));
    }

    /// <summary>
    /// The two series up to <paramref name="asOf"/>: the published editions (national scope only, since
    /// they are national counts) and, on each date with observations (the 200 most recent), the observed
    /// count of open collectivités of the scope (national, a région, an ATD perimeter). Shared by
    /// /api/progress and the reports.
    /// </summary>
    public static async Task<List<ProgressPoint>> SeriesAsync(NpgsqlConnection conn, DateOnly asOf, string? region, string? atd, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($$"""
            select observed_on, open_count, obliged_total, obliged_open, note, source, 'published' from milestone
             where observed_on <= @asOf and @region::text is null and @atd::text is null
            union all
            select d.observed_on, x.open::int, t.obliged::int, x.obliged_open::int, 'décompte des observations', null, 'observed'
              -- One point per directory snapshot, and the latest observation: contributions, one
              -- collectivité at a time and on any day, count in the points after them, not as points of
              -- their own (a year of daily contributions would make 365 national recounts per request).
              from (select observed_on from (
                      select distinct observed_on from observation
                       where collectivite_id is not null and observed_on <= @asOf and source <> 'contribution'
                      union
                      select max(observed_on) from observation where collectivite_id is not null and observed_on <= @asOf) x
                     where observed_on is not null
                     order by observed_on desc limit 200) d
              -- The obliged collectivités of the scope do not depend on the date: counted once. On each date
              -- only the open ones are read (open_on: the runs containing it, a few thousand rows), not the
              -- 36,000 collectivités with their status (31 → 8 ms on two dates, warm).
              cross join (select count(*) as obliged from collectivite c where c.is_obliged and {{IndicatorQueries.SelectionPredicate}}) t
              cross join lateral (
                   select count(*) as open, count(*) filter (where c.is_obliged) as obliged_open
                     from open_on(d.observed_on) o join collectivite c on c.id = o.collectivite_id
                    where {{IndicatorQueries.SelectionPredicate}}) x
             order by 1, 7 desc
            """, conn);
        // The indicators' selection (its one definition): the series' points are their figures on each date.
        cmd.Parameters.Add(new NpgsqlParameter("asOf", NpgsqlDbType.Date) { Value = asOf });
        IndicatorQueries.AddSelectionParameters(cmd, new IndicatorFilter(Region: region, Atd: atd));
        var series = new List<ProgressPoint>();
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        while (await rd.ReadAsync(ct))
            series.Add(new ProgressPoint(rd.GetFieldValue<DateOnly>(0), rd.GetInt32(1), rd.GetString(6),
                rd.IsDBNull(2) ? null : rd.GetInt32(2), rd.IsDBNull(3) ? null : rd.GetInt32(3),
                rd.IsDBNull(4) ? null : rd.GetString(4), rd.IsDBNull(5) ? null : rd.GetString(5)));
        return series;
    }
}
