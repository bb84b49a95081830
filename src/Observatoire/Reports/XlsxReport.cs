using MiniExcelLibs;
using MiniExcelLibs.Attributes;
using MiniExcelLibs.OpenXml;

namespace Observatoire.Reports;

/// <summary>
/// The report as one XLSX workbook (MiniExcel, no native dependency), a pure function of the model:
/// a summary sheet, one sheet per table, sources. Cells are typed (numbers as numbers, dates as
/// dates, rates as numbers formatted as percentages); the header row is frozen (MiniExcel's
/// <see cref="OpenXmlConfiguration.FreezeRowCount"/>) with an autofilter.
/// </summary>
public static class XlsxReport
{
    public static byte[] Render(ReportModel m)
    {
        using var ms = new MemoryStream();
        Render(m, ms);
        return ms.ToArray();
    }

    public static void Render(ReportModel m, Stream output)
    {
        var tables = new List<ReportTable> { ReportTables.Summary(m) };
        tables.AddRange(ReportTables.Names.Select(n => ReportTables.Get(n, m)));
        tables.Add(ReportTables.Sources(m));

        var sheets = new Dictionary<string, object>();
        var columns = new List<DynamicExcelColumn>();
        foreach (var t in tables)
        {
            sheets[t.SheetName] = t.Rows.Select(r =>
            {
                var d = new Dictionary<string, object?>();
                for (var i = 0; i < t.Columns.Count; i++) d[t.Columns[i].Header] = Cell(r[i]);
                return d;
            }).ToList();
        }
        // Column formats are keyed by header name across sheets: the same header has the same kind everywhere.
        foreach (var c in tables.SelectMany(t => t.Columns).DistinctBy(c => c.Header))
            columns.Add(new DynamicExcelColumn(c.Header)
            {
                Width = c.Kind switch { ColumnKind.Text => c.Header is "Nom" or "ATD" or "Région" or "Département" or "Indicateur" or "Valeur" or "Contenu" or "Précisions" ? 45 : 18, _ => 16 },
                Format = c.Kind switch { ColumnKind.Rate => "0.0%", ColumnKind.Date => "yyyy-mm-dd", ColumnKind.Integer => "#,##0", _ => null },
            });
        var config = new OpenXmlConfiguration
        {
            FreezeRowCount = 1,
            AutoFilter = true,
            EnableWriteNullValueCell = true,
            DynamicColumns = columns.ToArray(),
            TableStyles = TableStyles.None,
        };
        output.SaveAs(sheets, printHeader: true, excelType: ExcelType.XLSX, configuration: config);
    }

    /// <summary>MiniExcel types a cell by its CLR value: DateOnly is not one it knows, DateTime is.</summary>
    static object? Cell(object? v) => v switch
    {
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        _ => v,
    };
}
