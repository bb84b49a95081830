using Microsoft.EntityFrameworkCore;

namespace Observatoire.Data;

/// <summary>
/// EF Core maps the tables that the SQL files of <c>migrations/</c> create; it never creates or
/// migrates them itself. Names are snake_case in the database (EFCore.NamingConventions).
/// </summary>
public sealed class ObservatoireDb(DbContextOptions<ObservatoireDb> options) : DbContext(options)
{
    public DbSet<Collectivite> Collectivites => Set<Collectivite>();
    public DbSet<CollectiviteGeometry> CollectiviteGeometries => Set<CollectiviteGeometry>();
    public DbSet<FormerCommune> FormerCommunes => Set<FormerCommune>();
    public DbSet<DataRelease> DataReleases => Set<DataRelease>();
    public DbSet<Observation> Observations => Set<Observation>();
    public DbSet<StatusSnapshot> StatusSnapshots => Set<StatusSnapshot>();
    public DbSet<Platform> Platforms => Set<Platform>();
    public DbSet<AssociatedActor> AssociatedActors => Set<AssociatedActor>();
    public DbSet<Milestone> Milestones => Set<Milestone>();
    public DbSet<Atd> Atds => Set<Atd>();
    public DbSet<AtdCoverage> AtdCoverages => Set<AtdCoverage>();
    public DbSet<AccompaniedCommune> AccompaniedCommunes => Set<AccompaniedCommune>();
    public DbSet<ImportRejection> ImportRejections => Set<ImportRejection>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Collectivite>(e =>
        {
            e.ToTable("collectivite");
            e.Property(x => x.Siren).HasColumnType("char(9)");
            e.Property(x => x.EpciSiren).HasColumnType("char(9)");
            e.Property(x => x.EptSiren).HasColumnType("char(9)");
        });
        b.Entity<CollectiviteGeometry>(e =>
        {
            e.ToTable("collectivite_geometry");
            e.HasKey(x => x.CollectiviteId);
        });
        b.Entity<FormerCommune>(e =>
        {
            e.ToTable("former_commune");
            e.HasKey(x => new { x.Code, x.Kind, x.CurrentCode });
        });
        b.Entity<DataRelease>(e =>
        {
            e.ToTable("data_release");
            e.Property(x => x.Report).HasColumnType("jsonb");
        });
        StatusModel.Configure(b);
    }
}
