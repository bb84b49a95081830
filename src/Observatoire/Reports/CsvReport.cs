using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace Observatoire.Reports;

/// <summary>CSV dialects: French spreadsheet conventions (default) or RFC 4180.</summary>
public enum CsvDialect
{
    /// <summary>UTF-8 with BOM, <c>;</c> separator, decimal comma: opens as-is in a French spreadsheet.</summary>
    French,
    /// <summary>RFC 4180: <c>,</c> separator, decimal point, UTF-8 with BOM as well (harmless to parsers, keeps accents in spreadsheets).</summary>
    Rfc4180,
}

/// <summary>
/// One report table as CSV, a pure function of the model. Numbers without thousands separators,
/// rates as fractions (0–1, four decimals), dates ISO 8601 (yyyy-MM-dd), unknown = empty cell.
/// </summary>
public static class CsvReport
{
    public static byte[] Render(ReportTable table, CsvDialect dialect)
    {
        using var ms = new MemoryStream();
        Render(table, dialect, ms);
        return ms.ToArray();
    }

    public static void Render(ReportTable table, CsvDialect dialect, Stream output)
    {
        var french = dialect == CsvDialect.French;
        var config = new CsvConfiguration(french ? Fr.Culture : CultureInfo.InvariantCulture)
        {
            Delimiter = french ? ";" : ",",
            NewLine = "\r\n",   // RFC 4180 line ends, fine for spreadsheets too
        };
        using var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), leaveOpen: true);
        using var csv = new CsvWriter(writer, config);
        foreach (var c in table.Columns) csv.WriteField(c.Header);
        csv.NextRecord();
        foreach (var row in table.Rows)
        {
            foreach (var v in row) csv.WriteField(Format(v, french));
            csv.NextRecord();
        }
    }

    static string Format(object? v, bool french)
    {
        var s = v switch
        {
            null => "",
            DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            double x => Math.Round(x, 4).ToString("0.####", CultureInfo.InvariantCulture),
            long or int => Convert.ToString(v, CultureInfo.InvariantCulture)!,
            _ => AsText(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""),
        };
        return french && v is double ? s.Replace('.', ',') : s;
    }

    /// <summary>
    /// A spreadsheet runs a cell that starts with <c>= + - @</c> (or a tab or carriage return) as a
    /// formula: text that came from an imported file (names of ATD, of collectivités) could then
    /// compute or fetch something when the CSV is opened (CSV injection, OWASP). Such text gets a
    /// leading apostrophe, which spreadsheets show as text. Numbers and dates are written by the
    /// other branches and never touched: <c>-3</c> stays a number.
    /// </summary>
    public static string AsText(string s) => s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + s : s;
}
