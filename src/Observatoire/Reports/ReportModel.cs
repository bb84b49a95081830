namespace Observatoire.Reports;

/// <summary>
/// Every figure a report shows, for one date and one scope (national, a région, an ATD perimeter).
/// The PDF, XLSX, CSV and chart renderers are pure functions of this tree: they compute nothing, so
/// a figure reconciled here is the figure printed everywhere.
/// </summary>
/// <remarks>
/// Status figures (open, obligedOpen, rates, populations) are null when <see cref="BeforeFirstObservation"/>:
/// "no observation yet" must never read as "zero open".
/// </remarks>
public sealed record ReportModel(
    DateOnly AsOf,
    ReportScope Scope,
    DateOnly? FirstObservation,
    DateOnly? LatestObservation,
    bool BeforeFirstObservation,
    string? Notice,
    string? Vintage,
    Headline Headline,
    ProgressSeries Progress,
    IReadOnlyList<BreakdownRow> Bands,
    IReadOnlyList<BreakdownRow> Types,
    IReadOnlyList<BreakdownRow> Regions,
    IReadOnlyList<BreakdownRow> Departements,
    AtdNetwork Atd,
    TodoList Todo,
    IReadOnlyList<SourceNote> Sources,
    IReadOnlyList<string> MethodNotes)
{
    /// <summary>Programme goal: 2,000 open collectivités (set for 2020, restated for 2022).</summary>
    public const int Goal = Indicators.GoalProjection.Goal;

    /// <summary>How old the status data is, said on the first page of every report.</summary>
    public static string DataAge(ReportModel m) => m.LatestObservation is not { } last
        ? ""
        : last < m.AsOf
            ? $"Données d'ouverture : dernière observation le {Fr.Date(last)} ; l'état au {Fr.Date(m.AsOf)} est celui de cette observation, rien n'a été observé depuis."
        : last == m.AsOf
            ? $"Données d'ouverture : dernière observation le {Fr.Date(last)}."
            : $"Données d'ouverture : état au {Fr.Date(m.AsOf)} d'après les observations faites jusqu'à cette date (dernière observation de la base : {Fr.Date(last)}).";
}

/// <summary>What the report covers. <see cref="RegionCode"/> and <see cref="AtdId"/> narrow it.</summary>
public sealed record ReportScope(string? RegionCode, string? RegionName, string? AtdId, string? AtdName)
{
    public bool IsNational => RegionCode is null && AtdId is null;

    /// <summary>French label of the scope, as printed under the report title.</summary>
    public string Label => (RegionName, AtdName) switch
    {
        (null, null) => "France entière",
        ({ } r, null) => $"Région {r}",
        (null, { } a) => $"Périmètre de l'ATD {a}",
        ({ } r, { } a) => $"Périmètre de l'ATD {a}, région {r}",
    };
}

/// <param name="Collectivites">collectivités of the reference list in scope (all types)</param>
/// <param name="Obliged">of which under the open-data obligation</param>
/// <param name="Open">open collectivités on the date (null before the first observation)</param>
/// <param name="ObligedOpen">open among obliged</param>
/// <param name="Rate">ObligedOpen / Obliged (0–1), null when nothing is obliged or nothing observed</param>
/// <param name="PopulationOpenCommunes">inhabitants of the open communes</param>
/// <param name="PopulationCovered">inhabitants of communes that are open or whose EPCI/EPT is open (the indicator populationInOpenCommuneOrEpci)</param>
/// <param name="PopulationTotal">inhabitants of the communes in scope</param>
public sealed record Headline(
    long Collectivites,
    long Obliged,
    long? Open,
    long? ObligedOpen,
    double? Rate,
    long? PopulationOpenCommunes,
    long? PopulationCovered,
    long PopulationTotal)
{
    public int Goal => ReportModel.Goal;

    /// <summary>Share of the 2,000 goal reached (0–1+).</summary>
    public double? GoalShare => Open is { } o ? (double)o / ReportModel.Goal : null;
}

/// <summary>
/// Open collectivités over time and a linear projection to the goal. <see cref="ProjectedGoalDate"/>
/// is null when the trend does not rise or there are fewer than two points.
/// </summary>
public sealed record ProgressSeries(
    IReadOnlyList<Indicators.ProgressPoint> Points,
    double? PerYear,
    DateOnly? ProjectedGoalDate,
    string ProjectionText);

/// <param name="Key">band label, type code, région or département code</param>
/// <param name="Label">French label (région name, type name…)</param>
public sealed record BreakdownRow(
    string Key,
    string Label,
    long Collectivites,
    long Obliged,
    long? Open,
    long? ObligedOpen,
    double? Rate);

/// <summary>Open-among-obliged inside vs outside the ATD perimeters: does ATD support show?</summary>
public sealed record AtdNetwork(
    long AtdCount,
    CoverageFigures Inside,
    CoverageFigures Outside,
    IReadOnlyList<AtdRow> Atds,
    IReadOnlyList<AtdTodoSummary> LargestTodoLists);

public sealed record CoverageFigures(long Collectivites, long Obliged, long? ObligedOpen, double? Rate);

public sealed record AtdRow(
    string Id,
    string Name,
    string Kind,
    string? Scale,
    long Collectivites,
    long Obliged,
    long? ObligedOpen,
    double? Rate,
    long? TodoCount);

/// <summary>An ATD's to-do list in short: obliged collectivités of its perimeter not open yet, the most populous first.</summary>
public sealed record AtdTodoSummary(string AtdId, string AtdName, long TodoCount, IReadOnlyList<TodoItem> TopItems);

public sealed record TodoItem(
    string Id,
    string? Siren,
    string Code,
    string Type,
    string Name,
    long? Population,
    string? DepartementCode,
    string? AtdIds);

/// <summary>Obliged collectivités in scope that are not open on the date, most populous first; at most <see cref="Limit"/> rows.</summary>
public sealed record TodoList(long Total, IReadOnlyList<TodoItem> Items, int Limit)
{
    public bool Truncated => Total > Items.Count;
}

public sealed record SourceNote(string Name, string What, string Licence, string? Detail);
