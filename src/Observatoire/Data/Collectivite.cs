using NetTopologySuite.Geometries;

namespace Observatoire.Data;

/// <summary>A collectivité of the reference list (table <c>collectivite</c>). No geometry here.</summary>
public sealed class Collectivite
{
    public required string Id { get; set; }
    public string? Siren { get; set; }
    public required string Code { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public int? Population { get; set; }
    public string? PopulationBand { get; set; }
    public string? DepartementCode { get; set; }
    public string? RegionCode { get; set; }
    public string? EpciSiren { get; set; }
    public string? EptSiren { get; set; }
    public required string Zone { get; set; }
    public bool IsOverseasCollectivity { get; set; }
    public int? MemberCount { get; set; }
    public int? Staff { get; set; }
    public bool IsObliged { get; set; }
    public bool HasGeometry { get; set; }
    public required string SearchName { get; set; }
    public required string Vintage { get; set; }

    // Derived by the status and ATD imports (see migrations/002_status.sql).
    public bool IsOpen { get; set; }
    public DateOnly? FirstSeenOpen { get; set; }
    public int? DatasetCount { get; set; }
    public DateOnly? LastObservedOn { get; set; }
    public int AtdCount { get; set; }
}

/// <summary>Geometry of a collectivité (table <c>collectivite_geometry</c>), kept out of the narrow table.</summary>
public sealed class CollectiviteGeometry
{
    public required string CollectiviteId { get; set; }
    public required MultiPolygon Geom { get; set; }
    public required MultiPolygon GeomMid { get; set; }
    public required MultiPolygon GeomLow { get; set; }
    public required Point LabelPoint { get; set; }
    public required string Source { get; set; }
    public bool Repaired { get; set; }
}

public sealed class FormerCommune
{
    public required string Code { get; set; }
    public required string Kind { get; set; }
    public string? Name { get; set; }
    public required string CurrentCode { get; set; }
}

public sealed class DataRelease
{
    public int Id { get; set; }
    public required string Kind { get; set; }
    public required string Vintage { get; set; }
    public required string Checksum { get; set; }
    public DateTimeOffset LoadedAt { get; set; }
    public required string Report { get; set; }
}
