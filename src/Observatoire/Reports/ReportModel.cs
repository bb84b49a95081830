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
    ChangeSection Changes,
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

/// <summary>
/// « Changements »: what changed in scope between <see cref="From"/> and <see cref="To"/> (the report's
/// date), as <c>/api/changes</c> lists it (<see cref="Indicators.ChangeQueries"/>, the one definition):
/// every change, ordered by kind then population. <see cref="From"/> is <c>since</c> when the caller gives
/// it, otherwise the latest directory snapshot strictly before the report's date (or the first observation
/// when there is none); null when there is nothing to compare (no observation before the report's date).
/// </summary>
/// <param name="FromRule">how <see cref="From"/> was chosen: "since", "snapshot" or "first-observation"</param>
/// <param name="ObservedFrom">false when <see cref="From"/> precedes the first observation (nothing was open then)</param>
public sealed record ChangeSection(DateOnly? From, DateOnly To, string FromRule, bool ObservedFrom, IReadOnlyList<Indicators.Change> Items)
{
    public int NewlyOpen => Items.Count(c => c.Kind == "newly_open");
    public int NoLongerListed => Items.Count(c => c.Kind == "no_longer_listed");
    public int DatasetsUp => Items.Count(c => c.Kind == "datasets_up");
    public int DatasetsDown => Items.Count(c => c.Kind == "datasets_down");

    /// <summary>The list reached <see cref="Indicators.ChangeQueries.MaxRows"/>: more may exist.</summary>
    public bool Truncated => Items.Count >= Indicators.ChangeQueries.MaxRows;

    /// <summary>How the dates were chosen, in French, as printed in the PDF.</summary>
    public string RuleText => (From, FromRule) switch
    {
        (null, _) => $"Aucune observation avant le {Fr.Date(To)} : pas de comparaison possible.",
        ({ } f, "since") => $"Du {Fr.Date(f)} (date demandée) au {Fr.Date(To)} (date du rapport).",
        ({ } f, "snapshot") => $"Du {Fr.Date(f)}, date du recensement de l'annuaire précédant la date du rapport, au {Fr.Date(To)}.",
        ({ } f, _) => $"Du {Fr.Date(f)}, première observation (aucun recensement de l'annuaire ne précède la date du rapport), au {Fr.Date(To)}.",
    };

    /// <summary>The same list from the API, as CSV (the PDF prints only the first rows), for the report's scope.</summary>
    public string CsvUrl(ReportScope scope) => From is { } f
        ? $"/api/changes?from={f:yyyy-MM-dd}&to={To:yyyy-MM-dd}"
          + (scope.RegionCode is { } r ? $"&region={r}" : "") + (scope.AtdId is { } a ? $"&atd={a}" : "") + "&format=csv"
        : "";
}

public sealed record SourceNote(string Name, string What, string Licence, string? Detail);
