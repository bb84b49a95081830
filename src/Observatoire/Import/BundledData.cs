using Npgsql;
using Observatoire.Atds;
using Observatoire.Map;
using Observatoire.Status;
using Observatoire.Tiles;

namespace Observatoire.Import;

/// <summary>
/// Loads everything bundled in data/, in dependency order: the one entry point used by
/// <c>load-if-empty</c> (scripts/run.sh) and by the tests, so both load the same way.
/// </summary>
public static class BundledData
{
    /// <summary>The directory snapshots shipped in data/odf/, with their observation dates (oldest first).</summary>
    public static readonly (string File, DateOnly Date)[] Snapshots =
    [
        ("organisations-2022-04-25.csv", new DateOnly(2022, 4, 25)),
        ("organisations-2022-10-19.csv", new DateOnly(2022, 10, 19)),
    ];

    public static async Task LoadAsync(NpgsqlDataSource db, string dataDir, TextWriter log, CancellationToken ct = default,
        MapOptions? map = null)
    {
        await new ReferenceImporter(db, log).ImportAsync(ReferenceImportOptions.Bundled(dataDir), ct);
        await LoadAfterReferenceAsync(db, dataDir, log, ct, map);
    }

    /// <summary>
    /// Everything after the reference list: status, platforms, milestones, ATD, then the tile seed. Apart
    /// so that the tests can keep a copy of the database with the reference list only.
    /// </summary>
    public static async Task LoadAfterReferenceAsync(NpgsqlDataSource db, string dataDir, TextWriter log, CancellationToken ct = default,
        MapOptions? map = null)
    {
        await LoadStatusAsync(db, dataDir, log, ct);
        await TileStore.SeedAsync(db, map ?? new MapOptions(), log, ct);
    }

    /// <summary>Status snapshots, platforms, milestones and the ATD registry (after the reference list).</summary>
    public static async Task LoadStatusAsync(NpgsqlDataSource db, string dataDir, TextWriter log, CancellationToken ct = default)
    {
        var odf = Path.Combine(dataDir, "odf");
        var status = new StatusImporter(db, log);
        foreach (var (file, date) in Snapshots)
            await status.ImportAsync(Path.Combine(odf, file), date, ct: ct);
        await PlatformsAndMilestones.ImportPlatformsAsync(db, Path.Combine(odf, "plateformes.csv"),
            Path.Combine(odf, "plateformes-nationales-2022-10-19.csv"), log, ct);
        await PlatformsAndMilestones.ImportMilestonesAsync(db, Path.Combine(dataDir, "milestones.csv"), log, ct);
        await new AtdImporter(db, log).ImportAsync(Path.Combine(dataDir, "atd"), ct);
    }
}
