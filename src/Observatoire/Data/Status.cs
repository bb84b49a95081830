using Microsoft.EntityFrameworkCore;
using NetTopologySuite.Geometries;

namespace Observatoire.Data;

// Entities of migrations/002_status.sql (issue #3). The importers write these tables with SQL; EF maps
// them for reading (OData, endpoints). Geometry properties (Location, Perimeter) must stay out of any
// OData model: expose a projection.

/// <summary>One observation of an organisation in a dated source (table <c>observation</c>). Never updated by a later snapshot.</summary>
public sealed class Observation
{
    public long Id { get; set; }
    public required string SubjectKey { get; set; }
    public string? CollectiviteId { get; set; }
    public string? AssociatedActorId { get; set; }
    public DateOnly ObservedOn { get; set; }
    public required string Source { get; set; }
    /// <summary>true: listed as a publisher that day (open); false: absent from a complete snapshot.</summary>
    public bool IsListed { get; set; }
    /// <summary>null = unknown, never zero by default.</summary>
    public int? DatasetsLocal { get; set; }
    public int? DatasetsDatagouv { get; set; }
    public string? Platforms { get; set; }
    public string? Url { get; set; }
    /// <summary>siren | code | merger | name | location | actor | unmatched.</summary>
    public required string MatchMethod { get; set; }
    public string? MatchEvidence { get; set; }
    public string? SubjectSiren { get; set; }
    public string? SubjectName { get; set; }
    public string? SubjectType { get; set; }
    public string? SubjectDepartement { get; set; }
    public string? SubjectRegion { get; set; }
    public Point? Location { get; set; }
    public int? SourceLine { get; set; }
}

/// <summary>An imported directory snapshot (table <c>status_snapshot</c>).</summary>
public sealed class StatusSnapshot
{
    public required string Source { get; set; }
    public DateOnly ObservedOn { get; set; }
    public required string File { get; set; }
    public required string Checksum { get; set; }
    public bool Complete { get; set; }
    public int RowCount { get; set; }
    public int? ReleaseId { get; set; }
}

/// <summary>A publication platform (portal) of the OpenDataFrance table (table <c>platform</c>).</summary>
public sealed class Platform
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public string? Url { get; set; }
    public string? Type { get; set; }
    /// <summary>dedicated | mutualised | partnership | shared.</summary>
    public string? CollaborationMode { get; set; }
    public string? Technology { get; set; }
    public string[] HostedSirens { get; set; } = [];
    public required string Source { get; set; }
}

/// <summary>A publisher of the directory that is not a collectivité of the reference list (AGCT, OACT/OAGT, DSPT, SDE).</summary>
public sealed class AssociatedActor
{
    public required string Id { get; set; }
    public string? Siren { get; set; }
    public required string Name { get; set; }
    public required string Type { get; set; }
    public string? DepartementCode { get; set; }
    public Point? Location { get; set; }
}

/// <summary>Published national count of an observatoire edition (table <c>milestone</c>).</summary>
public sealed class Milestone
{
    public DateOnly ObservedOn { get; set; }
    public int OpenCount { get; set; }
    public int? ObligedTotal { get; set; }
    public int? ObligedOpen { get; set; }
    public string? Note { get; set; }
    public string? Source { get; set; }
}

/// <summary>An Animateur Territorial des Données (table <c>atd</c>).</summary>
public sealed class Atd
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public string? Scale { get; set; }
    public string? Siren { get; set; }
    /// <summary>region | departements | epci | communes; null when the documents do not state it.</summary>
    public string? PerimeterType { get; set; }
    public string[] PerimeterCodes { get; set; } = [];
    public string[] Seasons { get; set; } = [];
    public string? Source { get; set; }
    public string? Note { get; set; }
    public string? CollectiviteId { get; set; }
    public MultiPolygon? Perimeter { get; set; }
}

public sealed class AtdCoverage
{
    public required string AtdId { get; set; }
    public required string CollectiviteId { get; set; }
}

public sealed class AccompaniedCommune
{
    public required string AtdId { get; set; }
    public required string Insee { get; set; }
    public string? Name { get; set; }
    public string? Phase { get; set; }
    public string? Source { get; set; }
}

/// <summary>A row of an input file that was not loaded, with its reason (table <c>import_rejection</c>).</summary>
public sealed class ImportRejection
{
    public int ReleaseId { get; set; }
    public required string File { get; set; }
    public int Line { get; set; }
    public required string Reason { get; set; }
    public string? Raw { get; set; }
}

/// <summary>EF mapping of the status tables (called from <see cref="ObservatoireDb"/>).</summary>
static class StatusModel
{
    public static void Configure(ModelBuilder b)
    {
        b.Entity<Observation>(e =>
        {
            e.ToTable("observation");
            e.Property(x => x.SubjectSiren).HasColumnType("char(9)");
            e.Property(x => x.Location).HasColumnType("geometry(Point, 4326)");
        });
        b.Entity<StatusSnapshot>(e => { e.ToTable("status_snapshot"); e.HasKey(x => x.Source); });
        b.Entity<Platform>(e => e.ToTable("platform"));
        b.Entity<AssociatedActor>(e =>
        {
            e.ToTable("associated_actor");
            e.Property(x => x.Siren).HasColumnType("char(9)");
            e.Property(x => x.Location).HasColumnType("geometry(Point, 4326)");
        });
        b.Entity<Milestone>(e => { e.ToTable("milestone"); e.HasKey(x => x.ObservedOn); });
        b.Entity<Atd>(e =>
        {
            e.ToTable("atd");
            e.Property(x => x.Siren).HasColumnType("char(9)");
            e.Property(x => x.Perimeter).HasColumnType("geometry(MultiPolygon, 4326)");
        });
        b.Entity<AtdCoverage>(e => { e.ToTable("atd_coverage"); e.HasKey(x => new { x.AtdId, x.CollectiviteId }); });
        b.Entity<AccompaniedCommune>(e => { e.ToTable("accompanied_commune"); e.HasKey(x => new { x.AtdId, x.Insee }); });
        // No primary key in the table: read-only for EF.
        b.Entity<ImportRejection>(e => { e.ToTable("import_rejection"); e.HasNoKey(); });
    }
}
