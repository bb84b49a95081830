using ScottPlot;

namespace Observatoire.Reports;

/// <summary>
/// The report's charts (ScottPlot), pure functions of a <see cref="ReportModel"/>: the PDF draws
/// them as vectors on its canvas; the chart endpoints serve them alone as PNG or SVG for slides.
/// </summary>
public static class Charts
{
    /// <summary>Chart names of /api/reports/charts/{name}.png|.svg.</summary>
    public static readonly string[] Names = ["progress", "bands", "regions", "types"];

    /// <summary>
    /// ScottPlot's default font resolves to DejaVu Serif here and an unknown family falls back
    /// silently: name the sans-serif family the project installs (fonts-dejavu-core).
    /// </summary>
    public const string FontFamily = "DejaVu Sans";

    static readonly Color Blue = Color.FromHex("#1f4e9c");
    static readonly Color Orange = Color.FromHex("#d9762b");
    static readonly Color Grey = Color.FromHex("#6b6b6b");

    public static (int Width, int Height) DefaultSize(string name) => name switch
    {
        "regions" => (900, 620),
        _ => (900, 480),
    };

    public static Plot Create(string name, ReportModel m) => name switch
    {
        "progress" => Progress(m),
        "bands" => Rates(m.Bands, "Taux d'ouverture des communes obligées par strate de population", horizontal: false, m),
        "types" => Rates(m.Types, "Taux d'ouverture des collectivités obligées par type", horizontal: false, m, useKeys: true),
        "regions" => Rates(m.Regions, "Taux d'ouverture des collectivités obligées par région", horizontal: true, m),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "graphique inconnu"),
    };

    public static byte[] Png(string name, ReportModel m, int? width = null, int? height = null)
    {
        var (w, h) = DefaultSize(name);
        return Create(name, m).GetImageBytes(width ?? w, height ?? h, ImageFormat.Png);
    }

    public static string Svg(string name, ReportModel m, int? width = null, int? height = null)
    {
        var (w, h) = DefaultSize(name);
        return Create(name, m).GetSvgXml(width ?? w, height ?? h);
    }

    static Plot NewPlot(string title)
    {
        var plot = new Plot();
        plot.Font.Set(FontFamily);
        plot.Title(title, 15);
        return plot;
    }

    static Plot Progress(ReportModel m)
    {
        var plot = NewPlot(m.Scope.IsNational
            ? "Collectivités ouvertes depuis 2017 et objectif de 2 000"
            : $"Collectivités ouvertes — {m.Scope.Label}");
        var pts = m.Progress.Points;
        void Series(string kind, Color color, string legend, MarkerShape shape)
        {
            var sel = pts.Where(p => p.Kind == kind).ToArray();
            if (sel.Length == 0) return;
            var s = plot.Add.Scatter(sel.Select(p => p.Date.ToDateTime(TimeOnly.MinValue)).ToArray(), sel.Select(p => (double)p.Open).ToArray(), color);
            s.LegendText = legend;
            s.MarkerShape = shape;
            s.MarkerSize = 9;
            s.LineWidth = 2;
        }
        Series(Indicators.ProgressKind.Published, Blue, "Comptes publiés (éditions)", MarkerShape.FilledCircle);
        Series(Indicators.ProgressKind.Observed, Orange, "Comptes observés (relevés de la base)", MarkerShape.FilledSquare);
        if (m.Progress.ProjectedGoalDate is { } goal && pts.Count > 0)
        {
            var last = pts[^1];
            var proj = plot.Add.Scatter(
                new[] { last.Date.ToDateTime(TimeOnly.MinValue), goal.ToDateTime(TimeOnly.MinValue) },
                new[] { (double)last.Open, ReportModel.Goal }, Grey);
            proj.LinePattern = LinePattern.Dashed;
            proj.MarkerSize = 0;
            proj.LegendText = $"Projection (objectif vers {Fr.MonthYear(goal)})";
        }
        if (m.Scope.IsNational)
        {
            var line = plot.Add.HorizontalLine(ReportModel.Goal, 1.5f, Grey, LinePattern.Dotted);
            line.LegendText = "Objectif : 2 000 collectivités ouvertes";
        }
        plot.Axes.DateTimeTicksBottom();
        plot.YLabel("Collectivités ouvertes");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => v.ToString("#,0", Fr.Culture) };
        plot.Axes.SetLimitsY(0, Math.Max(ReportModel.Goal * (m.Scope.IsNational ? 1.1 : 0), pts.Count > 0 ? pts.Max(p => p.Open) * 1.15 : 10));
        if (pts.Count == 0)
        {
            var an = plot.Add.Annotation("Aucun point à cette date");
            an.Alignment = Alignment.MiddleCenter;
            var d = m.AsOf.ToDateTime(TimeOnly.MinValue);
            plot.Axes.SetLimitsX(d.AddYears(-2).ToOADate(), d.AddYears(2).ToOADate());
        }
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    static Plot Rates(IReadOnlyList<BreakdownRow> rows, string title, bool horizontal, ReportModel m, bool useKeys = false)
    {
        var plot = NewPlot(title);
        var shown = rows.Where(r => r.Obliged > 0).ToList();
        if (m.BeforeFirstObservation || shown.Count == 0)
        {
            plot.Add.Annotation(m.BeforeFirstObservation ? "Aucune observation à cette date" : "Aucune collectivité obligée dans ce périmètre");
            plot.HideGrid();
            plot.Axes.Frameless();
            return plot;
        }
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (var i = 0; i < shown.Count; i++)
        {
            // Horizontal bars read top-down in the table's order.
            double pos = horizontal ? shown.Count - 1 - i : i;
            var rate = (shown[i].Rate ?? 0) * 100;
            bars.Add(new Bar
            {
                Position = pos,
                Value = rate,
                FillColor = Blue,
                LineWidth = 0,
                Label = rate.ToString("0.0", Fr.Culture),
                CenterLabel = false,
            });
            ticks.Add(new Tick(pos, useKeys ? shown[i].Key : shown[i].Label, true));
        }
        var bp = plot.Add.Bars(bars);
        bp.Horizontal = horizontal;
        bp.ValueLabelStyle.FontName = FontFamily;
        bp.ValueLabelStyle.FontSize = 11;
        var axis = horizontal ? (IAxis)plot.Axes.Left : plot.Axes.Bottom;
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        axis.MajorTickStyle.Length = 0;
        var max = Math.Max(10, shown.Max(r => (r.Rate ?? 0) * 100) * 1.2);
        if (horizontal)
        {
            plot.Axes.SetLimits(0, max, -0.6, shown.Count - 0.4);
            plot.XLabel("% des obligées ouvertes");
        }
        else
        {
            plot.Axes.SetLimits(-0.6, shown.Count - 0.4, 0, max);
            plot.YLabel("% des obligées ouvertes");
            if (!useKeys) plot.XLabel("Habitants");
        }
        return plot;
    }
}
