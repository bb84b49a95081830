using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using Observatoire.Api;
using Observatoire.Import;
using Observatoire.Map;
using Observatoire.Status;

namespace Observatoire.Contributions;

/// <summary>
/// The write API (docs/api.md, « Contributions ») and the editor page /contribuer. Reading stays public;
/// every write needs a key (<see cref="ContributorAuth"/>) and leaves an audit row (<see cref="AuditLog"/>).
/// </summary>
public static class ContributionEndpoints
{
    /// <summary>Largest snapshot file accepted (the 2022 directory is 0.5 MB).</summary>
    public const long MaxSnapshotBytes = 20 * 1024 * 1024;

    public static IEndpointRouteBuilder MapContributions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/observations", ObservationWriter.CreateAsync).WithName("RecordObservation");
        app.MapGet("/api/observations/{id:long}", GetObservationAsync).WithName("Observation");
        app.MapPost("/api/snapshots", UploadSnapshotAsync).WithName("UploadSnapshot").DisableAntiforgery();
        app.MapPost("/api/atd/registry", UploadAtdRegistryAsync).WithName("UploadAtdRegistry").DisableAntiforgery();
        app.MapGet("/api/audit", AuditLog.ListAsync).WithName("Audit");
        app.MapGet("/api/contributor", WhoAmIAsync).WithName("Contributor");
        app.MapGet("/contribuer", (IWebHostEnvironment env) =>
            Results.File(env.WebRootFileProvider.GetFileInfo("contribuer.html").CreateReadStream(), "text/html; charset=utf-8"));
        return app;
    }

    /// <summary>The caller's key: name, role, ATD and, for an ATD editor, the collectivités it may write for (the editor page).</summary>
    static async Task<IResult> WhoAmIAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (who, refusal, _) = await ContributorAuth.AuthenticateAsync(http);
        if (refusal is not null) return refusal;
        object? atd = null;
        string[]? perimeter = null;
        if (who!.AtdId is { } atdId)
        {
            await using var cmd = db.CreateCommand("""
                select a.name, array(select ac.collectivite_id from atd_coverage ac where ac.atd_id = a.id order by 1) from atd a where a.id = $1
                """);
            cmd.Parameters.AddWithValue(atdId);
            await using var rd = await cmd.ExecuteReaderAsync(ct);
            if (await rd.ReadAsync(ct))
            {
                atd = new { id = atdId, name = rd.GetString(0) };
                perimeter = rd.GetFieldValue<string[]>(1);
            }
            else atd = new { id = atdId, name = (string?)null };
            perimeter ??= [];
        }
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new { name = who.Name, role = who.Role, atd, perimeter });
    }

    static async Task<IResult> GetObservationAsync(long id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await ObservationWriter.ReadAsync(conn, null, id, ct) is { } body
            ? Results.Text(body, "application/json", System.Text.Encoding.UTF8)
            : Problems.Of(404, "Observation introuvable", $"Aucune observation n° {id}.");
    }

    /// <summary>What an administrator's upload handler returns: the answer's body and its summary for the audit row.</summary>
    sealed record UploadResult(object Body, object Audit);

    /// <summary>
    /// An administrator's file upload (multipart, at most <see cref="MaxSnapshotBytes"/>), run by an importer
    /// on files saved in a temporary folder: authentication, the admin check, <c>dryRun</c> (default true:
    /// without <c>dryRun=false</c> the diff is computed and nothing is written), the audit row of every
    /// attempt, French problems for refusals (guards: 422 with the report; unreadable files: 400), the
    /// map's cache evicted after a real import.
    /// </summary>
    static async Task<IResult> UploadAsync(HttpContext http, NpgsqlDataSource db, string action, string what,
        Func<IFormCollection, string, StringWriter, bool, Task<(UploadResult? Result, string? Problem)>> import, CancellationToken ct)
    {
        var (who, refusal, reason) = await ContributorAuth.AuthenticateAsync(http);
        var p = new QueryParameters(http.Request.Query);
        var dryRun = p.Bool("dryRun") ?? true;
        action += dryRun ? ".dry-run" : ".import";
        if (refusal is not null)
        {
            await AuditLog.WriteAsync(db, http, null, new(action, 401, reason));
            return refusal;
        }
        async Task<IResult> Refuse(int status, string title, string detail, object? extra = null)
        {
            await AuditLog.WriteAsync(db, http, who, new(action, status, detail));
            return extra is null ? Problems.Of(status, title, detail)
                : Results.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["report"] = extra });
        }
        if (!who!.IsAdmin) return await Refuse(403, "Réservé aux administrateurs", $"Seule une clé d'administrateur peut importer {what}.");
        if (!p.IsValid) return await Refuse(400, "Paramètre invalide", "« dryRun » vaut true ou false.");
        if (!http.Request.HasFormContentType)
            return await Refuse(415, "Type de contenu non pris en charge", "Envoyez les fichiers en multipart/form-data (voir docs/contributions.md).");
        if (http.Request.ContentLength > MaxSnapshotBytes)
            return await Refuse(413, "Fichier trop volumineux", $"Un envoi fait au plus {MaxSnapshotBytes / 1024 / 1024} Mo.");

        IFormCollection form;
        try
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxSnapshotBytes + 64 * 1024;
            form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = MaxSnapshotBytes }, ct);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            return await Refuse(e is BadHttpRequestException { StatusCode: 413 } || e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase) ? 413 : 400,
                "Envoi refusé", $"Le formulaire n'a pas pu être lu (au plus {MaxSnapshotBytes / 1024 / 1024} Mo, multipart/form-data).");
        }

        var dir = Directory.CreateTempSubdirectory("obs-upload-");
        var log = new StringWriter();
        string Clean(string text) => text.Replace(dir.FullName + Path.DirectorySeparatorChar, "");
        try
        {
            var (result, problem) = await import(form, dir.FullName, log, dryRun);
            if (problem is not null) return await Refuse(400, "Envoi incomplet", problem);
            if (!dryRun) await MapCache.EvictAsync(http.RequestServices, ct);
            await AuditLog.WriteAsync(db, http, who, new(action, 200, null, After: result!.Audit));
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(result.Body);
        }
        catch (ImportRefusedException e)
        {
            return await Refuse(422, "Import refusé par les garde-fous", Clean(e.Message) + " Rien n'a été écrit.", Clean(log.ToString()));
        }
        catch (ImportException e)
        {
            return await Refuse(400, "Fichier refusé", Clean(e.Message) + " Rien n'a été écrit.");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Saves a multipart file under a safe name in <paramref name="dir"/>; null when the field is empty.</summary>
    static async Task<string?> SaveAsync(IFormFile? file, string dir, string fallbackName, CancellationToken ct)
    {
        if (file is null || file.Length == 0) return null;
        var name = Path.GetFileName(file.FileName) is { Length: > 0 and < 100 } n && !n.Any(char.IsControl) ? n : fallbackName;
        var path = Path.Combine(dir, name);
        await using var f = File.Create(path);
        await file.CopyToAsync(f, ct);
        return path;
    }

    /// <summary>
    /// POST /api/snapshots: a directory snapshot in its CSV format (multipart field <c>file</c>, field or
    /// parameter <c>date</c>), imported by the CLI's importer with the same guards.
    /// </summary>
    static Task<IResult> UploadSnapshotAsync(HttpContext http, NpgsqlDataSource db, IConfiguration config, CancellationToken ct) =>
        UploadAsync(http, db, "snapshot", "un instantané de l'annuaire", async (form, dir, log, dryRun) =>
        {
            var path = await SaveAsync(form.Files["file"], dir, "instantane.csv", ct);
            if (path is null) return (null, "Le champ « file » doit contenir le CSV de l'annuaire (format OpenDataFrance).");
            var dateText = form["date"].ToString() is { Length: > 0 } fd ? fd : http.Request.Query["date"].ToString();
            if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", out var date) || date < QueryParameters.FirstDate || date > QueryParameters.Today)
                return (null, $"« date » = « {dateText} » : date d'observation AAAA-MM-JJ attendue, du {QueryParameters.FirstDate:yyyy-MM-dd} à aujourd'hui.");
            var importer = new StatusImporter(db, log) { Guards = ImportGuardOptions.From(config, form["acceptLargeChange"] == "true") };
            var r = await importer.ImportAsync(path, date, complete: form["complete"] != "false", dryRun: dryRun, ct: ct);
            var file = Path.GetFileName(path);
            return (new UploadResult(new
            {
                dryRun, skipped = r.Skipped, source = r.Source, file, rows = r.Rows, rejected = r.Rejected, byMethod = r.ByMethod,
                rejections = r.Rejections.Take(1000).Select(x => new { line = x.Line, reason = x.Reason }),
                report = log.ToString().Replace(path, file),
            }, new { source = r.Source, file, rows = r.Rows, rejected = r.Rejected, skipped = r.Skipped }), null);
        }, ct);

    /// <summary>
    /// POST /api/atd/registry: the ATD registry (multipart fields <c>atd</c>, the registry's atd.csv, and
    /// <c>accompanied</c>, accompanied-communes.csv), imported by the CLI's importer (import-atd): the
    /// perimeters and the coverage are recomputed; a registry that would remove more than half of the ATD
    /// is refused unless <c>acceptLargeChange=true</c>.
    /// </summary>
    static Task<IResult> UploadAtdRegistryAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
        UploadAsync(http, db, "atd-registry", "le registre des ATD", async (form, dir, log, dryRun) =>
        {
            var atd = form.Files["atd"];
            var accompanied = form.Files["accompanied"];
            if (atd is null || atd.Length == 0 || accompanied is null)
                return (null, "Champs attendus : « atd » (atd.csv du registre) et « accompanied » (accompanied-communes.csv).");
            await using (var f = File.Create(Path.Combine(dir, "atd.csv"))) await atd.CopyToAsync(f, ct);
            await using (var f = File.Create(Path.Combine(dir, "accompanied-communes.csv"))) await accompanied.CopyToAsync(f, ct);
            await new Atds.AtdImporter(db, log).ImportAsync(dir, ct, dryRun, acceptLargeChange: form["acceptLargeChange"] == "true");
            var report = log.ToString().Replace(dir + Path.DirectorySeparatorChar, "");
            return (new UploadResult(new { dryRun, report }, new { report = report.Split('\n')[0] }), null);
        }, ct);
}
