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

    public static CsvTable Read(string path)
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
        var records = new List<(int, string[], string)>();
        string[]? header = null;
        try
        {
            using var csv = new CsvParser(new StringReader(text), config);
            var lastRawRow = 0;
            while (csv.Read())
            {
                var line = lastRawRow + 1; // physical line where this record starts (quoted fields may span lines)
                lastRawRow = csv.RawRow;
                var fields = csv.Record ?? [];
                if (header is null) { header = fields; continue; }
                if (fields.Length == 1 && string.IsNullOrWhiteSpace(fields[0])) continue; // blank line
                records.Add((line, fields, csv.RawRecord.TrimEnd('\r', '\n')));
            }
        }
        catch (CsvHelperException e)
        {
            throw new ImportException($"Le fichier {path} n'est pas un CSV valide : {e.Message.Split('\n')[0]}", e);
        }
        return new CsvTable { Path = path, Header = header ?? [], Records = records, Delimiter = delimiter };
    }
}
