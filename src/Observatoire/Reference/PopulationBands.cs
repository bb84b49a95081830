namespace Observatoire.Reference;

/// <summary>
/// The labels of the eight population bands (strates), in ascending order, as exposed by the API
/// (PopulationBand) and accepted by the <c>band</c> filters. The rule deriving a band from a population
/// lives in one place, the SQL function <c>population_band</c> (migrations/007), which the reference
/// import applies; a test checks that it produces exactly these labels.
/// </summary>
public static class PopulationBands
{
    public static readonly string[] All =
        ["<500", "500-1999", "2000-3499", "3500-9999", "10000-19999", "20000-49999", "50000-99999", ">=100000"];
}

/// <summary>
/// The type codes, for validating filters and reading files. SQL has the same families as functions
/// (migrations/007: <c>collectivite_types()</c>, <c>epci_types()</c>, <c>groupement_types()</c>), which the
/// queries call; a test checks the two agree.
/// </summary>
public static class CollectiviteTypes
{
    /// <summary>The collectivités proper (SQL <c>collectivite_types()</c>).</summary>
    public static readonly string[] Proper = ["COM", "CC", "CA", "CU", "MET", "EPT", "DEP", "REG"];

    /// <summary>Every type of the reference list: the collectivités proper and the collectivités d'outre-mer.</summary>
    public static readonly string[] All = [.. Proper, "COLOM"];
}
