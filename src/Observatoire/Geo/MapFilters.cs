using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Observatoire.Reference;

namespace Observatoire.Geo;

/// <summary>
/// The filters shared by the GeoJSON and tile endpoints (<c>type</c>, <c>band</c>, <c>obliged</c>,
/// <c>open</c>, <c>atd</c>, <c>region</c>, <c>departement</c>, <c>date</c>), parsed and validated once,
/// then written as SQL predicates with parameters (never concatenated values).
/// </summary>
public sealed partial record MapFilters(
    string[]? Types, string[]? Bands, bool? Obliged, bool? Open, string? Atd,
    string? Region, string? Departement, DateOnly? Date)
{
    public static readonly string[] KnownTypes = ["COM", "CC", "CA", "CU", "MET", "EPT", "DEP", "REG", "COLOM"];

    [GeneratedRegex("^[A-Za-z0-9]{1,3}$")] private static partial Regex AreaCode();
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")] private static partial Regex AtdId();

    public static readonly MapFilters Default = new(null, null, null, null, null, null, null, null);

    /// <summary>No filter at all: the view everyone opens, which the tile store pre-renders.</summary>
    public bool IsDefault => Types is null && Bands is null && Obliged is null && Open is null && Atd is null
        && Region is null && Departement is null && Date is null;

    /// <summary>Parses the query string; on bad input returns a French message for a 400.</summary>
    public static MapFilters Parse(IQueryCollection q, out string? error)
    {
        error = null;
        string[]? List(string name, string[] allowed, ref string? err)
        {
            if (!q.TryGetValue(name, out var v) || string.IsNullOrWhiteSpace(v)) return null;
            var items = v.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var bad = items.Where(i => !allowed.Contains(i)).ToArray();
            if (bad.Length > 0)
                err ??= $"Valeur inconnue pour « {name} » : {string.Join(", ", bad)}. Valeurs possibles : {string.Join(", ", allowed)}.";
            return items.Distinct().ToArray();
        }
        bool? Bool(string name, ref string? err)
        {
            if (!q.TryGetValue(name, out var v) || string.IsNullOrWhiteSpace(v)) return null;
            switch (v.ToString().Trim().ToLowerInvariant())
            {
                case "true" or "1" or "oui": return true;
                case "false" or "0" or "non": return false;
                default: err ??= $"« {name} » attend true ou false (reçu : {v})."; return null;
            }
        }
        string? Code(string name, ref string? err)
        {
            if (!q.TryGetValue(name, out var v) || string.IsNullOrWhiteSpace(v)) return null;
            var s = v.ToString().Trim();
            if (!AreaCode().IsMatch(s)) err ??= $"« {name} » attend un code INSEE (ex. 53 pour une région, 35 ou 2A pour un département).";
            return s.ToUpperInvariant();
        }

        var types = List("type", KnownTypes, ref error);
        var bands = List("band", PopulationBands.All, ref error);
        var obliged = Bool("obliged", ref error);
        var open = Bool("open", ref error);
        string? atd = null;
        if (q.TryGetValue("atd", out var a) && !string.IsNullOrWhiteSpace(a))
        {
            atd = a.ToString().Trim().ToLowerInvariant();
            if (atd is "1" or "oui") atd = "true";
            if (atd is "0" or "non") atd = "false";
            if (atd is not ("true" or "false") && !AtdId().IsMatch(atd))
                error ??= "« atd » attend true, false ou l'identifiant d'un ATD (ex. cr-grand-est).";
        }
        var region = Code("region", ref error);
        var dep = Code("departement", ref error);
        DateOnly? date = null;
        if (q.TryGetValue("date", out var d) && !string.IsNullOrWhiteSpace(d))
        {
            if (DateOnly.TryParseExact(d.ToString().Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
                && parsed.Year >= 2000 && parsed <= DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1))
                date = parsed;
            else
                error ??= "« date » attend une date passée au format AAAA-MM-JJ (ex. 2022-10-19).";
        }
        return new MapFilters(types, bands, obliged, open, atd, region, dep, date);
    }

    /// <summary>
    /// Status columns for alias <paramref name="c"/>: today's derived columns, or <c>status_on(date)</c>
    /// joined as <c>s</c> for a past date. Returns (join clause, open expression, datasets expression).
    /// </summary>
    public (string Join, string Open, string Datasets) Status(string c, NpgsqlCommand cmd)
    {
        if (Date is null) return ("", $"{c}.is_open", $"{c}.dataset_count");
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly>("date", Date.Value));
        return ($"join status_on(@date) s on s.collectivite_id = {c}.id", "s.is_open", "s.dataset_count");
    }

    /// <summary>
    /// Predicate (starting with " and ") on the collectivités of alias <paramref name="c"/> for the
    /// filters that describe a collectivité: type, band, obliged, open, ATD. (région/département are
    /// applied by the caller, on features or on members depending on the level.)
    /// </summary>
    public string MemberPredicate(string c, string openExpr, NpgsqlCommand cmd)
    {
        var sql = new StringBuilder();
        if (Types is not null)
        {
            sql.Append($" and {c}.type = any(@types)");
            cmd.Parameters.Add(new NpgsqlParameter<string[]>("types", Types));
        }
        if (Bands is not null)
        {
            sql.Append($" and {c}.population_band = any(@bands)");
            cmd.Parameters.Add(new NpgsqlParameter<string[]>("bands", Bands));
        }
        if (Obliged is { } o) sql.Append(o ? $" and {c}.is_obliged" : $" and not {c}.is_obliged");
        if (Open is { } op) sql.Append(op ? $" and {openExpr}" : $" and not {openExpr}");
        switch (Atd)
        {
            case null: break;
            case "true": sql.Append($" and {c}.atd_count > 0"); break;
            case "false": sql.Append($" and {c}.atd_count = 0"); break;
            default:
                sql.Append($" and exists (select 1 from atd_coverage ac where ac.collectivite_id = {c}.id and ac.atd_id = @atd)");
                cmd.Parameters.Add(new NpgsqlParameter<string>("atd", Atd));
                break;
        }
        return sql.ToString();
    }

    /// <summary>Predicate (starting with " and ") on the parents of alias <paramref name="c"/>.</summary>
    public string AreaPredicate(string c, NpgsqlCommand cmd)
    {
        var sql = new StringBuilder();
        if (Region is not null)
        {
            sql.Append($" and {c}.region_code = @region");
            cmd.Parameters.Add(new NpgsqlParameter<string>("region", Region));
        }
        if (Departement is not null)
        {
            sql.Append($" and {c}.departement_code = @departement");
            cmd.Parameters.Add(new NpgsqlParameter<string>("departement", Departement));
        }
        return sql.ToString();
    }
}
