using System.Globalization;
using System.Text.RegularExpressions;

namespace Observatoire.Api;

/// <summary>
/// The one reader of the public endpoints' query strings (GeoJSON, tiles, indicators, ATD, reports):
/// a date, a code or an ATD id is read the same way everywhere, with one set of French messages.
/// Every malformed parameter is noted (an absent or empty one is null); <see cref="Problem"/> then
/// answers them all at once as a 400 « Paramètre invalide ».
/// </summary>
public sealed partial class QueryParameters(IQueryCollection query)
{
    /// <summary>
    /// The earliest date a request may name, for every endpoint (the observatoire's series start in 2017;
    /// an earlier date is accepted and answered "not observed").
    /// </summary>
    public static readonly DateOnly FirstDate = new(2010, 1, 1);

    /// <summary>
    /// Today in France, the one "today" of the observatoire (the latest date an observation may carry,
    /// the day an API key expires, OData's current status): the server's clock runs in UTC, which is
    /// still yesterday for the first one or two hours of a French day.
    /// </summary>
    public static DateOnly Today => TodayAt(DateTime.UtcNow);

    public static DateOnly TodayAt(DateTime utc) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, Paris));

    static readonly TimeZoneInfo Paris = FindParis();

    static TimeZoneInfo FindParis()
    {
        try { return TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"); }
        catch (TimeZoneNotFoundException) { return TimeZoneInfo.Utc; } // no tzdata: UTC, at most two hours late
    }

    [GeneratedRegex("^(?:[0-9]{2,3}|2[AB])$")] private static partial Regex AreaCodeFormat();
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,79}$")] private static partial Regex AtdIdFormat();

    readonly List<string> problems = [];

    public bool IsValid => problems.Count == 0;

    /// <summary>Every malformed parameter, in one French 400 problem.</summary>
    public IResult Problem() => Problems.BadParameter(string.Join(" ; ", problems) + ".");

    public string? Raw(string name) => query[name].ToString() is { } s && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;

    void Bad(string name, string value, string expected) => problems.Add($"paramètre « {name} » = « {value} » : {expected}");

    /// <summary>A date AAAA-MM-JJ from <see cref="FirstDate"/> to tomorrow (time zones).</summary>
    public DateOnly? Date(string name = "date")
    {
        if (Raw(name) is not { } v) return null;
        if (DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            && d >= FirstDate && d <= DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1))
            return d;
        Bad(name, v, $"date AAAA-MM-JJ attendue, du {FirstDate:yyyy-MM-dd} à aujourd'hui (ex. 2022-10-19)");
        return null;
    }

    /// <summary>One value among <paramref name="allowed"/>.</summary>
    public string? OneOf(string name, IReadOnlyCollection<string> allowed)
    {
        if (Raw(name) is not { } v) return null;
        if (allowed.Contains(v)) return v;
        Bad(name, v, $"valeurs possibles {string.Join(", ", allowed)}");
        return null;
    }

    /// <summary>Values among <paramref name="allowed"/>, separated by commas (each once).</summary>
    public string[]? List(string name, IReadOnlyCollection<string> allowed)
    {
        if (Raw(name) is not { } v) return null;
        var items = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        if (items.Length > 0 && items.All(allowed.Contains)) return items;
        Bad(name, v, $"valeurs possibles {string.Join(", ", allowed)} (plusieurs séparées par des virgules)");
        return null;
    }

    /// <summary>true or false (also 1/0, oui/non).</summary>
    public bool? Bool(string name)
    {
        if (Raw(name) is not { } v) return null;
        switch (v.ToLowerInvariant())
        {
            case "true" or "1" or "oui": return true;
            case "false" or "0" or "non": return false;
            default: Bad(name, v, "true ou false attendu"); return null;
        }
    }

    /// <summary>An INSEE code of région or département: 53, 35, 2A, 974.</summary>
    public string? AreaCode(string name)
    {
        if (Raw(name) is not { } v) return null;
        var code = v.ToUpperInvariant();
        if (AreaCodeFormat().IsMatch(code)) return code;
        Bad(name, v, "code INSEE attendu (ex. 53 pour une région, 35, 2A ou 974 pour un département)");
        return null;
    }

    /// <summary>An ATD identifier (lower case, digits and hyphens; the list is on /api/atd).</summary>
    public string? AtdId(string name = "atd")
    {
        if (Raw(name) is not { } v) return null;
        if (AtdIdFormat().IsMatch(v)) return v;
        Bad(name, v, "identifiant d'ATD attendu (minuscules, chiffres et tirets, ex. rennes-metropole ; liste : /api/atd)");
        return null;
    }

    /// <summary>The map's ATD filter: "true" (supported by an ATD), "false" (by none), or one ATD's identifier.</summary>
    public string? AtdFilter(string name = "atd") => Raw(name)?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "1" or "oui" => "true",
        "false" or "0" or "non" => "false",
        _ => AtdId(name),
    };

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public int? Int(string name, int min, int max)
    {
        if (Raw(name) is not { } v) return null;
        if (int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        Bad(name, v, $"entier de {min} à {max} attendu");
        return null;
    }
}
