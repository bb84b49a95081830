namespace Observatoire.Reports;

public enum ColumnKind { Text, Integer, Rate, Date }

public sealed record ReportColumn(string Header, ColumnKind Kind);

/// <summary>One table of the report, as the CSV and XLSX renderers write it: typed cells, null = unknown.</summary>
public sealed record ReportTable(string Name, string SheetName, IReadOnlyList<ReportColumn> Columns, IReadOnlyList<object?[]> Rows);

/// <summary>The report's tables (the names of /api/reports/{table}.csv), flattened from the model.</summary>
public static class ReportTables
{
    /// <summary>Stable table names: part of the public interface (README).</summary>
    public static readonly string[] Names = ["bands", "types", "regions", "departements", "atd", "todo", "progress", "changes"];

    static readonly ReportColumn[] Counts =
    [
        new("Collectivités", ColumnKind.Integer), new("Obligées", ColumnKind.Integer), new("Ouvertes", ColumnKind.Integer),
        new("Obligées ouvertes", ColumnKind.Integer), new("Taux d'ouverture des obligées", ColumnKind.Rate),
    ];

    public static ReportTable Get(string name, ReportModel m) => name switch
    {
        "bands" => Breakdown(name, "Strates", [new("Strate", ColumnKind.Text)], m.Bands, r => [r.Key]),
        "types" => Breakdown(name, "Types", [new("Code type", ColumnKind.Text), new("Type", ColumnKind.Text)], m.Types, r => [r.Key, r.Label]),
        "regions" => Breakdown(name, "Régions", [new("Code région", ColumnKind.Text), new("Région", ColumnKind.Text)], m.Regions, r => [r.Key, r.Label]),
        "departements" => Breakdown(name, "Départements", [new("Code département", ColumnKind.Text), new("Département", ColumnKind.Text)], m.Departements, r => [r.Key, r.Label]),
        "atd" => new(name, "ATD",
            [
                new("Identifiant", ColumnKind.Text), new("ATD", ColumnKind.Text), new("Nature", ColumnKind.Text), new("Échelle", ColumnKind.Text),
                new("Collectivités couvertes", ColumnKind.Integer), new("Obligées", ColumnKind.Integer), new("Obligées ouvertes", ColumnKind.Integer),
                new("Taux d'ouverture des obligées", ColumnKind.Rate), new("Obligées à ouvrir", ColumnKind.Integer),
            ],
            m.Atd.Atds.Select(a => new object?[] { a.Id, a.Name, a.Kind, a.Scale, a.Collectivites, a.Obliged, a.ObligedOpen, a.Rate, a.TodoCount }).ToList()),
        "todo" => new(name, "À ouvrir",
            [
                new("Identifiant", ColumnKind.Text), new("SIREN", ColumnKind.Text), new("Code", ColumnKind.Text), new("Type", ColumnKind.Text),
                new("Nom", ColumnKind.Text), new("Population", ColumnKind.Integer), new("Département", ColumnKind.Text), new("ATD", ColumnKind.Text),
            ],
            m.Todo.Items.Select(i => new object?[] { i.Id, i.Siren, i.Code, i.Type, i.Name, i.Population, i.DepartementCode, i.AtdIds }).ToList()),
        "progress" => new(name, "Progression",
            // Nature: milestone = published count, observation = computed from the database. (The
            // milestones' notes are English working notes of data/milestones.csv: not shown.)
            [new("Date", ColumnKind.Date), new("Collectivités ouvertes", ColumnKind.Integer), new("Nature", ColumnKind.Text)],
            m.Progress.Points.Select(p => new object?[] { p.Date, p.Open, p.Kind }).ToList()),
        // The « Changements » section: the table of /api/changes?format=csv (one definition), every row.
        "changes" => Indicators.ChangeQueries.Table(m.Changes.Items) with { Name = name },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "table inconnue"),
    };

    /// <summary>Headline figures as a two-column table (the XLSX's first sheet).</summary>
    public static ReportTable Summary(ReportModel m)
    {
        var h = m.Headline;
        var rows = new List<object?[]>
        {
            new object?[] { "Date du rapport", m.AsOf },
            new object?[] { "Périmètre", m.Scope.Label },
            new object?[] { "Collectivités ouvertes", h.Open },
            new object?[] { "Objectif national", (long)h.Goal },
            new object?[] { "Collectivités du référentiel", h.Collectivites },
            new object?[] { "Collectivités obligées", h.Obliged },
            new object?[] { "Obligées ouvertes", h.ObligedOpen },
            new object?[] { "Taux d'ouverture des obligées", h.Rate },
            new object?[] { "Habitants des communes ouvertes", h.PopulationOpenCommunes },
            new object?[] { "Habitants dont la commune ou l'EPCI est ouvert", h.PopulationCovered },
            new object?[] { "Habitants des communes du périmètre", h.PopulationTotal },
            new object?[] { "ATD", m.Atd.AtdCount },
            new object?[] { "Taux d'ouverture dans les périmètres d'ATD", m.Atd.Inside.Rate },
            new object?[] { "Taux d'ouverture hors périmètres d'ATD", m.Atd.Outside.Rate },
            new object?[] { "Première observation", m.FirstObservation },
            new object?[] { "Dernière observation", m.LatestObservation },
            new object?[] { "Projection", m.Progress.ProjectionText },
            new object?[] { "Changements : depuis le", m.Changes.From },
            new object?[] { "Changements : jusqu'au", m.Changes.To },
            new object?[] { "Nouvellement ouvertes", m.Changes.From is null ? null : (long)m.Changes.NewlyOpen },
            new object?[] { "N'apparaissent plus ouvertes", m.Changes.From is null ? null : (long)m.Changes.NoLongerListed },
            new object?[] { "Jeux de données en hausse", m.Changes.From is null ? null : (long)m.Changes.DatasetsUp },
            new object?[] { "Jeux de données en baisse", m.Changes.From is null ? null : (long)m.Changes.DatasetsDown },
            new object?[] { "Obligation", Indicators.IndicatorQueries.ObligationNote },
        };
        if (m.Notice is { } n) rows.Insert(2, ["Avertissement", n]);
        // Mixed kinds in one column: the XLSX writer types each cell by its value.
        return new("summary", "Synthèse", [new("Indicateur", ColumnKind.Text), new("Valeur", ColumnKind.Text)], rows);
    }

    public static ReportTable Sources(ReportModel m) => new("sources", "Sources",
        [new("Source", ColumnKind.Text), new("Contenu", ColumnKind.Text), new("Licence", ColumnKind.Text), new("Précisions", ColumnKind.Text)],
        m.Sources.Select(s => new object?[] { s.Name, s.What, s.Licence, s.Detail })
            .Concat(m.MethodNotes.Select(n => new object?[] { "Note de méthode", n, null, null })).ToList());

    static ReportTable Breakdown(string name, string sheet, ReportColumn[] keys, IReadOnlyList<BreakdownRow> rows, Func<BreakdownRow, object?[]> key) =>
        new(name, sheet, [.. keys, .. Counts],
            rows.Select(r => (object?[])[.. key(r), r.Collectivites, r.Obliged, r.Open, r.ObligedOpen, r.Rate]).ToList());
}
