using Npgsql;

namespace Observatoire.Import;

/// <summary>
/// Loads everything bundled in data/, in dependency order: the one entry point used by
/// <c>load-if-empty</c> (scripts/run.sh) and by the tests, so both load the same way.
/// </summary>
public static class BundledData
{
    public static async Task LoadAsync(NpgsqlDataSource db, string dataDir, TextWriter log, CancellationToken ct = default)
    {
        await new ReferenceImporter(db, log).ImportAsync(ReferenceImportOptions.Bundled(dataDir), ct);
    }
}
