namespace Observatoire.OData;

// The OData entity types: narrow projections over the views of migrations/003_odata_views.sql, never
// over a geometry column. Property names are the public names of docs/api.md (PascalCase, stable).
// Summable numbers are long: an Int32 sum that overflows in PostgreSQL reaches the client as an HTTP
// 200 with a truncated body.

/// <summary>A collectivité (commune, EPCI, EPT, département, région, collectivité d'outre-mer).</summary>
public sealed class Collectivite
{
    public required string Id { get; set; }
    public string? Siren { get; set; }
    public required string Code { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public long? Population { get; set; }
    public string? PopulationBand { get; set; }
    public string? DepartementCode { get; set; }
    public string? RegionCode { get; set; }
    public string? EpciSiren { get; set; }
    public string? EptSiren { get; set; }
    public required string Zone { get; set; }
    public bool IsOverseasCollectivity { get; set; }
    public long? MemberCount { get; set; }
    public bool IsObliged { get; set; }
    public bool IsOpen { get; set; }
    public DateOnly? FirstSeenOpen { get; set; }
    public long? DatasetCount { get; set; }
    public DateOnly? LastObservedOn { get; set; }
    public long AtdCount { get; set; }
    public long OpenFlag { get; set; }
    public long ObligedFlag { get; set; }
    public long ObligedOpenFlag { get; set; }

    // Mapped for EF (joins, $search) but left out of the EDM model.
    public string SearchName { get; set; } = "";
    public string? EpciId { get; set; }
    public string? DepartementId { get; set; }
    public string? RegionId { get; set; }

    public Collectivite? Epci { get; set; }
    public Collectivite? Departement { get; set; }
    public Collectivite? Region { get; set; }
    public List<Collectivite> Members { get; set; } = [];
    public List<Observation> Observations { get; set; } = [];
    public List<Atd> Atds { get; set; } = [];
}

/// <summary>One observation of an organisation's open-data status on a date, from one source.</summary>
public sealed class Observation
{
    public long Id { get; set; }
    public required string SubjectKey { get; set; }
    public string? CollectiviteId { get; set; }
    public string? AssociatedActorId { get; set; }
    public DateOnly ObservedOn { get; set; }
    public required string Source { get; set; }
    public bool IsListed { get; set; }
    public long? DatasetsLocal { get; set; }
    public long? DatasetsDatagouv { get; set; }
    public string? Platforms { get; set; }
    public string? Url { get; set; }
    public required string MatchMethod { get; set; }
    public string? MatchEvidence { get; set; }
    public long? SupersededBy { get; set; }
    public string? Note { get; set; }
    public string? Contributor { get; set; }

    public Collectivite? Collectivite { get; set; }
    public AssociatedActor? AssociatedActor { get; set; }
}

/// <summary>A publication platform (portal).</summary>
public sealed class Platform
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public string? Url { get; set; }
    public string? Type { get; set; }
    public string? CollaborationMode { get; set; }
    public string? Technology { get; set; }
    public List<string> HostedSirens { get; set; } = [];
    public long HostedCount { get; set; }
    public required string Source { get; set; }
}

/// <summary>An organisation of the directory that is not a collectivité of the reference list.</summary>
public sealed class AssociatedActor
{
    public required string Id { get; set; }
    public string? Siren { get; set; }
    public required string Name { get; set; }
    public required string Type { get; set; }
    public string? DepartementCode { get; set; }
    public double? Latitude { get; set; }
    public double? Longitude { get; set; }

    public List<Observation> Observations { get; set; } = [];
}

/// <summary>A national count published by an edition of the observatoire.</summary>
public sealed class Milestone
{
    public DateOnly ObservedOn { get; set; }
    public long OpenCount { get; set; }
    public long? ObligedTotal { get; set; }
    public long? ObligedOpen { get; set; }
    public string? Note { get; set; }
    public string? Source { get; set; }
}

/// <summary>An Animateur Territorial des Données and its perimeter (without the perimeter geometry).</summary>
public sealed class Atd
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public string? Scale { get; set; }
    public string? Siren { get; set; }
    public string? PerimeterType { get; set; }
    public List<string> PerimeterCodes { get; set; } = [];
    public List<string> Seasons { get; set; } = [];
    public string? Source { get; set; }
    public string? Note { get; set; }
    public string? CollectiviteId { get; set; }
    public long CoveredCount { get; set; }
    public long CoveredObligedCount { get; set; }
    public long CoveredObligedOpenCount { get; set; }

    public Collectivite? Collectivite { get; set; }
    public List<Collectivite> Collectivites { get; set; } = [];
}

/// <summary>A collectivité's status on a given date (function StatusOn, SQL odata_status_on).</summary>
public sealed class CollectiviteStatus
{
    public required string Id { get; set; }
    public DateOnly Date { get; set; }
    public string? Siren { get; set; }
    public required string Code { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public long? Population { get; set; }
    public string? PopulationBand { get; set; }
    public string? DepartementCode { get; set; }
    public string? RegionCode { get; set; }
    public string? EpciSiren { get; set; }
    public bool IsOverseasCollectivity { get; set; }
    public bool IsObliged { get; set; }
    public bool IsOpen { get; set; }
    public DateOnly? FirstSeenOpen { get; set; }
    public long? DatasetCount { get; set; }
    public long OpenFlag { get; set; }
    public long ObligedFlag { get; set; }
    public long ObligedOpenFlag { get; set; }
    public bool Observed { get; set; }
}

/// <summary>One write attempt of the contributions API (administrators only: OData/ODataGuard.cs).</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public long? ApiKeyId { get; set; }
    public string? Role { get; set; }
    public required string Action { get; set; }
    public string? CollectiviteId { get; set; }
    public long? ObservationId { get; set; }
    public long Status { get; set; }
    public required string Outcome { get; set; }
    public string? Reason { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
    public string? RequestId { get; set; }
    public string? ClientAddress { get; set; }
}

/// <summary>A collectivité whose status differs between two dates (SQL changes_between): Changes(From=…,To=…).</summary>
public sealed class CollectiviteChange
{
    public required string Id { get; set; }
    public DateOnly DateFrom { get; set; }
    public DateOnly DateTo { get; set; }
    public required string Change { get; set; }
    public string? Siren { get; set; }
    public required string Code { get; set; }
    public required string Type { get; set; }
    public required string Name { get; set; }
    public string? DepartementCode { get; set; }
    public string? RegionCode { get; set; }
    public bool IsObliged { get; set; }
    public bool OpenBefore { get; set; }
    public bool OpenAfter { get; set; }
    public long? DatasetsBefore { get; set; }
    public long? DatasetsAfter { get; set; }
    public long? ObservationBefore { get; set; }
    public long? ObservationAfter { get; set; }
}
