using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace Observatoire.Import;

/// <summary>
/// A CSV file read whole (the bundled files are small): header, records with their line numbers, and
/// the problems a person can fix reported as <see cref="ImportException"/> naming the file. The
/// delimiter (<c>,</c> or <c>;</c>) is detected on the header line; a BOM is skipped; invalid UTF-8 is
/// refused rather than silently replaced.
/// </summary>
public sealed class CsvTable
{
    public required string Path { get; init; }
    public required string[] Header { get; init; }
    public required List<(int Line, string[] Fields, string Raw)> Records { get; init; }
    public char Delimiter { get; init; }
    /// <summary>Malformed lines (quote left open) by line number, with the reason.</summary>
    public IReadOnlyDictionary<int, string> Malformed { get; init; } = new Dictionary<int, string>();

    /// <summary>Index of the first header present among <paramref name="names"/> (case-insensitive), or -1.</summary>
    public int Column(params string[] names)
    {
        foreach (var n in names)
        {
            var i = Array.FindIndex(Header, h => string.Equals(h.Trim(), n, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        return -1;
    }

    public int RequiredColumn(params string[] names)
    {
        var i = Column(names);
        return i >= 0 ? i : throw new ImportException(
            $"Le fichier {Path} n'a pas de colonne « {names[0]} » (en-tête lu : {string.Join(Delimiter, Header)}). Format inattendu ou fichier tronqué.");
    }

    /// <summary>
    /// Reads a CSV file. A line with a quote left open is malformed: with <paramref name="tolerateMalformed"/>
    /// it stays in <see cref="Records"/> with no fields and its reason in <see cref="Malformed"/> (the
    /// caller rejects that row); otherwise the whole file is refused.
    /// </summary>
    public static CsvTable Read(string path, bool tolerateMalformed = false)
    {
        string text;
        try
        {
            using var s = ImportFiles.Open(path);
            using var r = new StreamReader(s, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            text = r.ReadToEnd();
        }
        catch (Exception e) when (e is DecoderFallbackException or InvalidDataException or EndOfStreamException)
        {
            throw new ImportException($"Le fichier {path} n'est pas un texte UTF-8 lisible (corrompu, tronqué ou dans un autre encodage).", e);
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        if (text.Contains('\0'))
            throw new ImportException($"Le fichier {path} contient des octets nuls : ce n'est pas un CSV (fichier binaire ou corrompu).");
        var firstLine = text.Split('\n', 2)[0];
        if (string.IsNullOrWhiteSpace(firstLine)) throw new ImportException($"Le fichier {path} est vide ou n'a pas de ligne d'en-tête.");
        var delimiter = firstLine.Count(ch => ch == ';') > firstLine.Count(ch => ch == ',') ? ';' : ',';

        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter.ToString(),
            HasHeaderRecord = false,
            BadDataFound = null, // a stray quote inside a field is data, not a reason to drop the file
            DetectColumnCountChanges = false,
            TrimOptions = TrimOptions.None,
        };
        // One record per physical line: the files we read never break a field across lines, so a quote
        // left open is a malformed row, reported on its own line, and never swallows the rows after it.
        var records = new List<(int, string[], string)>();
        var malformed = new Dictionary<int, string>();
        string[]? header = null;
        var lines = text.Split('\n');
        try
        {
            for (var i = 0; i < lines.Length; i++)
            {
                var raw = lines[i].TrimEnd('\r');
                if (string.IsNullOrWhiteSpace(raw)) continue; // blank line
                if (UnterminatedQuote(raw, delimiter) is { } column)
                {
                    if (header is null) throw new ImportException($"Le fichier {path} a un guillemet non fermé dans sa ligne d'en-tête.");
                    malformed[i + 1] = $"guillemet non fermé (champ {column}) : ligne ignorée, la suivante est lue à part";
                    records.Add((i + 1, [], raw));
                    continue;
                }
                using var csv = new CsvParser(new StringReader(raw), config);
                var fields = csv.Read() ? csv.Record ?? [] : [];
                if (header is null) { header = fields; continue; }
                records.Add((i + 1, fields, raw));
            }
        }
        catch (CsvHelperException e)
        {
            throw new ImportException($"Le fichier {path} n'est pas un CSV valide : {e.Message.Split('\n')[0]}", e);
        }
        if (malformed.Count > 0 && !tolerateMalformed)
            throw new ImportException($"Le fichier {path} a des lignes mal formées : " +
                string.Join(" ; ", malformed.Take(10).Select(m => $"ligne {m.Key} : {m.Value}")) + ".");
        return new CsvTable { Path = path, Header = header ?? [], Records = records, Delimiter = delimiter, Malformed = malformed };
    }

    /// <summary>
    /// The 1-based field where a quoted field opens and is not closed by the end of the line (RFC 4180:
    /// a field starting with a quote ends at a lone quote; doubled quotes are data), or null.
    /// </summary>
    static int? UnterminatedQuote(string line, char delimiter)
    {
        bool inQuotes = false, fieldStart = true;
        var field = 1;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuotes)
            {
                if (c != '"') continue;
                if (i + 1 < line.Length && line[i + 1] == '"') i++;
                else inQuotes = false;
            }
            else if (c == delimiter) { fieldStart = true; field++; }
            else
            {
                if (c == '"' && fieldStart) inQuotes = true;
                fieldStart = false;
            }
        }
        return inQuotes ? field : null;
    }
}
