using System.Globalization;
using System.Text;

namespace Observatoire.Status;

/// <summary>SIREN cleaning and validation (9 digits, Luhn check digit), as the directory's values need.</summary>
public static class Siren
{
    /// <summary>
    /// Removes surrounding and inner spaces (incl. U+00A0, U+202F) and invisible format characters
    /// (Unicode category Cf: U+200E, U+200B, U+FEFF…). <paramref name="removed"/> names what was removed
    /// (e.g. "U+200E, espace final"), null when the value was already clean.
    /// </summary>
    public static string Clean(string raw, out string? removed)
    {
        var sb = new StringBuilder(raw.Length);
        var notes = new List<string>();
        for (var i = 0; i < raw.Length; i++)
        {
            var ch = raw[i];
            if (char.GetUnicodeCategory(ch) == UnicodeCategory.Format || ch is '\u00A0' or '\u202F' or '\u2007')
            {
                var n = $"U+{(int)ch:X4}";
                if (!notes.Contains(n)) notes.Add(n);
            }
            else if (char.IsWhiteSpace(ch))
            {
                var n = sb.Length == 0 ? "espace initial" : raw[i..].All(char.IsWhiteSpace) ? "espace final" : "espace intérieur";
                if (!notes.Contains(n)) notes.Add(n);
            }
            else sb.Append(ch);
        }
        removed = notes.Count == 0 ? null : string.Join(", ", notes);
        return sb.ToString();
    }

    /// <summary>Null when <paramref name="siren"/> is a valid SIREN, else the reason in French.</summary>
    public static string? Problem(string siren)
    {
        if (siren.Length == 0) return "SIREN absent";
        if (siren.Length != 9 || !siren.All(char.IsAsciiDigit))
            return $"SIREN « {siren} » invalide : 9 chiffres attendus";
        if (!LuhnValid(siren)) return $"SIREN « {siren} » invalide : la clé de contrôle (Luhn) est fausse";
        return null;
    }

    public static bool LuhnValid(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        return sum % 10 == 0;
    }
}
