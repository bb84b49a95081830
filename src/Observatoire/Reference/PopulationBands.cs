namespace Observatoire.Reference;

/// <summary>
/// The eight population bands (strates) of the observatoire, nested in the DGF bands (CGCT L.2334-3).
/// The one place where a band is derived from a population: never type a band by hand.
/// </summary>
public static class PopulationBands
{
    /// <summary>Band labels in ascending order, as exposed by the API (PopulationBand).</summary>
    public static readonly string[] All =
        ["<500", "500-1999", "2000-3499", "3500-9999", "10000-19999", "20000-49999", "50000-99999", ">=100000"];

    /// <summary>Lower bound (inclusive) of each band of <see cref="All"/>.</summary>
    public static readonly int[] LowerBounds = [0, 500, 2000, 3500, 10_000, 20_000, 50_000, 100_000];

    public static string? Of(int? population)
    {
        if (population is not { } p) return null;
        for (var i = LowerBounds.Length - 1; i >= 0; i--)
            if (p >= LowerBounds[i]) return All[i];
        return All[0];
    }

    /// <summary>The same rule in SQL, for code that derives bands in the database.</summary>
    public const string SqlCase = """
        case when {0} is null then null
             when {0} >= 100000 then '>=100000' when {0} >= 50000 then '50000-99999'
             when {0} >= 20000 then '20000-49999' when {0} >= 10000 then '10000-19999'
             when {0} >= 3500 then '3500-9999' when {0} >= 2000 then '2000-3499'
             when {0} >= 500 then '500-1999' else '<500' end
        """;
}

/// <summary>The legal open-data obligation (loi pour une République numérique, CRPA L.312-1-1).</summary>
public static class Obligation
{
    public const int PopulationThreshold = 3500;
    public const int StaffThreshold = 50;

    /// <summary>Types to which the obligation applies: the collectivités proper.</summary>
    public static readonly string[] Types = ["COM", "CC", "CA", "CU", "MET", "EPT", "DEP", "REG"];

    /// <summary>
    /// Obliged = ≥ 3,500 inhabitants and ≥ 50 FTE. Staff is rarely known: an unknown staff count
    /// counts as obliged (the observatoire's rule), a known one below 50 does not.
    /// </summary>
    public static bool IsObliged(string type, int? population, int? staff) =>
        Types.Contains(type) && population >= PopulationThreshold && (staff is null || staff >= StaffThreshold);

    /// <summary>The same rule as a SQL boolean expression over the given columns.</summary>
    public static string Sql(string type, string population, string staff) =>
        $"({type} in ({string.Join(",", Types.Select(t => $"'{t}'"))}) and coalesce({population}, 0) >= {PopulationThreshold} and ({staff} is null or {staff} >= {StaffThreshold}))";
}
