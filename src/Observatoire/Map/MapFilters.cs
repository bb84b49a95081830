using System.Text;
using Npgsql;
using Observatoire.Api;
using Observatoire.Reference;

namespace Observatoire.Map;

/// <summary>
/// The filters shared by the GeoJSON and tile endpoints (<c>type</c>, <c>band</c>, <c>obliged</c>,
/// <c>open</c>, <c>atd</c>, <c>region</c>, <c>departement</c>, <c>date</c>), parsed and validated once,
/// then written as SQL predicates with parameters (never concatenated values).
/// </summary>
public sealed record MapFilters(
    string[]? Types, string[]? Bands, bool? Obliged, bool? Open, string? Atd,
    string? Region, string? Departement, DateOnly? Date)
{
    public static readonly string[] KnownTypes = CollectiviteTypes.All;

    public static readonly MapFilters Default = new(null, null, null, null, null, null, null, null);

    /// <summary>No filter at all: the view everyone opens, which the tile store pre-renders.</summary>
    public bool IsDefault => Types is null && Bands is null && Obliged is null && Open is null && Atd is null
        && Region is null && Departement is null && Date is null;

    /// <summary>Reads the filters from the query string; a malformed one is noted in <paramref name="p"/>.</summary>
    public static MapFilters Parse(QueryParameters p) => new(
        p.List("type", KnownTypes), p.List("band", PopulationBands.All), p.Bool("obliged"), p.Bool("open"),
        p.AtdFilter(), p.AreaCode("region"), p.AreaCode("departement"), p.Date());

    /// <summary>
    /// Status columns for alias <paramref name="c"/>: today's derived columns, or for a past date the open
    /// run containing it (status_period, the home of the rule; what <c>status_on(date)</c> reads) joined as
    /// <c>s</c>: the runs holding the date come from an index, where joining <c>status_on</c> itself scans
    /// collectivite a second time (a third of a dated choropleth's time). Returns (join clause, open expression,
    /// datasets expression).
    /// </summary>
    public (string Join, string Open, string Datasets) Status(string c, NpgsqlCommand cmd)
    {
        if (Date is null) return ("", $"{c}.is_open", $"{c}.dataset_count");
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly>("date", Date.Value));
        // Only open runs (a closed run's count is null: its absence says the same), read from the index of
        // migration 015 alone.
        return ($"left join status_period s on s.collectivite_id = {c}.id and s.valid @> @date and s.is_open", "(s.collectivite_id is not null)", "s.dataset_count");
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
