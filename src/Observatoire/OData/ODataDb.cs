using Microsoft.EntityFrameworkCore;

namespace Observatoire.OData;

/// <summary>
/// The OData API's own EF context, over the geometry-free views of migrations/003_odata_views.sql
/// (not over the tables the importers write): what analysts can query is exactly what these views
/// show, and the status import can add columns to its tables without touching the API.
/// </summary>
public sealed class ODataDb(DbContextOptions<ODataDb> options) : DbContext(options)
{
    public DbSet<Collectivite> Collectivites => Set<Collectivite>();
    public DbSet<Observation> Observations => Set<Observation>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<Platform> Platforms => Set<Platform>();
    public DbSet<AssociatedActor> AssociatedActors => Set<AssociatedActor>();
    public DbSet<Milestone> Milestones => Set<Milestone>();
    public DbSet<Atd> Atds => Set<Atd>();

    /// <summary>Every collectivité with its status on <paramref name="date"/> (SQL odata_status_on), composable.</summary>
    public IQueryable<CollectiviteStatus> StatusOn(DateOnly date) => FromExpression(() => StatusOn(date));

    /// <summary>The collectivités whose status differs between two dates (SQL odata_changes), composable.</summary>
    public IQueryable<CollectiviteChange> Changes(DateOnly from, DateOnly to) => FromExpression(() => Changes(from, to));

    /// <summary>
    /// Between the last two directory snapshots (SQL latest_snapshot_pair); with <paramref name="only"/>, the
    /// comparison of that collectivité alone (a key lookup: one index lookup instead of the whole comparison).
    /// </summary>
    public IQueryable<CollectiviteChange> LatestChanges(string? only = null) => (only is null
        ? Set<CollectiviteChange>().FromSql($"select x.* from latest_snapshot_pair() p, odata_changes(p.d1, p.d2) x")
        : Set<CollectiviteChange>().FromSql($"select x.* from latest_snapshot_pair() p, odata_changes(p.d1, p.d2, {only}) x")).AsNoTracking();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Collectivite>(e =>
        {
            e.ToView("odata_collectivite");
            e.HasKey(x => x.Id);
            e.HasOne(x => x.Epci).WithMany(x => x.Members).HasForeignKey(x => x.EpciId);
            e.HasOne(x => x.Departement).WithMany().HasForeignKey(x => x.DepartementId);
            e.HasOne(x => x.Region).WithMany().HasForeignKey(x => x.RegionId);
            e.HasMany(x => x.Observations).WithOne(x => x.Collectivite).HasForeignKey(x => x.CollectiviteId);
            e.HasMany(x => x.Atds).WithMany(x => x.Collectivites).UsingEntity<Dictionary<string, object>>(
                "atd_coverage",
                r => r.HasOne<Atd>().WithMany().HasForeignKey("AtdId"),
                l => l.HasOne<Collectivite>().WithMany().HasForeignKey("CollectiviteId"),
                j => { j.ToTable("atd_coverage"); j.HasKey("AtdId", "CollectiviteId"); });
        });
        b.Entity<Observation>(e =>
        {
            e.ToView("odata_observation");
            e.HasKey(x => x.Id);
            e.HasOne(x => x.AssociatedActor).WithMany(x => x.Observations).HasForeignKey(x => x.AssociatedActorId);
        });
        b.Entity<Platform>(e => { e.ToView("odata_platform"); e.HasKey(x => x.Id); });
        b.Entity<AuditEntry>(e => { e.ToView("odata_audit_entry"); e.HasKey(x => x.Id); });
        b.Entity<AssociatedActor>(e => { e.ToView("odata_associated_actor"); e.HasKey(x => x.Id); });
        b.Entity<Milestone>(e => { e.ToView("odata_milestone"); e.HasKey(x => x.ObservedOn); });
        b.Entity<Atd>(e =>
        {
            e.ToView("odata_atd");
            e.HasKey(x => x.Id);
            e.HasOne(x => x.Collectivite).WithMany().HasForeignKey(x => x.CollectiviteId);
        });
        b.Entity<CollectiviteStatus>(e => { e.HasNoKey(); e.ToView(null); });
        b.HasDbFunction(typeof(ODataDb).GetMethod(nameof(StatusOn), [typeof(DateOnly)])!).HasName("odata_status_on");
        b.Entity<CollectiviteChange>(e => { e.HasNoKey(); e.ToView(null); });
        b.HasDbFunction(typeof(ODataDb).GetMethod(nameof(Changes), [typeof(DateOnly), typeof(DateOnly)])!).HasName("odata_changes");
    }
}
