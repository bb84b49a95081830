using System.Globalization;
using System.Text;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// The bundled OpenDataFrance and ATD CSV files read with a minimal RFC 4180 parser written here,
/// independently of the application's reader: the tests compute their expected answers from it.
/// </summary>
public static class RawOdf
{
    public sealed record Row(int Line, Dictionary<string, string> Fields)
    {
        public string this[string k] => Fields.TryGetValue(k, out var v) ? v : "";
        /// <summary>SIREN without spaces or invisible characters.</summary>
        public string Siren => new(this["siren"].Where(char.IsAsciiDigit).ToArray());
    }

    public static List<Row> October => Read(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv"), ',');
    public static List<Row> April => Read(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-04-25.csv"), ';');
    public static List<Row> Atd => Read(Path.Combine(TestEnvironment.DataDir, "atd", "atd.csv"), ',');
    public static List<Row> Accompanied => Read(Path.Combine(TestEnvironment.DataDir, "atd", "accompanied-communes.csv"), ',');

    public static List<Row> Read(string path, char sep)
    {
        var text = File.ReadAllText(path, Encoding.UTF8).TrimStart('\uFEFF');
        var records = new List<(int Line, List<string> Fields)>();
        var field = new StringBuilder();
        var fields = new List<string>();
        int line = 1, start = 1;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else { if (ch == '\n') line++; field.Append(ch); }
            }
            else if (ch == '"') quoted = true;
            else if (ch == sep) { fields.Add(field.ToString()); field.Clear(); }
            else if (ch == '\r') { }
            else if (ch == '\n')
            {
                fields.Add(field.ToString()); field.Clear();
                records.Add((start, fields)); fields = [];
                line++; start = line;
            }
            else field.Append(ch);
        }
        if (field.Length > 0 || fields.Count > 0) { fields.Add(field.ToString()); records.Add((start, fields)); }
        var header = records[0].Fields;
        return records.Skip(1).Where(r => r.Fields.Count == header.Count)
            .Select(r => new Row(r.Line, header.Zip(r.Fields).ToDictionary(p => p.First, p => p.Second))).ToList();
    }

    /// <summary>Lower case, no accents, anything else than a letter or digit as one space.</summary>
    public static string Key(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            if (char.IsLetterOrDigit(ch)) sb.Append(char.ToLowerInvariant(ch));
            else if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
        }
        return sb.ToString().Trim();
    }
}
