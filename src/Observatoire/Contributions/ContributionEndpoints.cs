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

    /// <summary>
    /// POST /api/snapshots (administrators): a directory snapshot in its CSV format (multipart field
    /// <c>file</c>, field or parameter <c>date</c>), imported by the same importer and guards as the CLI.
    /// <c>dryRun</c> defaults to true: without <c>dryRun=false</c> the diff is computed and nothing is written.
    /// </summary>
    static async Task<IResult> UploadSnapshotAsync(HttpContext http, NpgsqlDataSource db, IConfiguration config, CancellationToken ct)
    {
        var (who, refusal, reason) = await ContributorAuth.AuthenticateAsync(http);
        var p = new QueryParameters(http.Request.Query);
        var dryRun = p.Bool("dryRun") ?? true;
        var action = dryRun ? "snapshot.dry-run" : "snapshot.import";
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
        if (!who!.IsAdmin) return await Refuse(403, "Réservé aux administrateurs", "Seule une clé d'administrateur peut importer un instantané de l'annuaire.");
        if (!p.IsValid) return await Refuse(400, "Paramètre invalide", "« dryRun » vaut true ou false.");
        if (!http.Request.HasFormContentType)
            return await Refuse(415, "Type de contenu non pris en charge", "Envoyez le fichier en multipart/form-data : champ « file » (le CSV) et champ « date » (AAAA-MM-JJ).");
        if (http.Request.ContentLength > MaxSnapshotBytes)
            return await Refuse(413, "Fichier trop volumineux", $"Un instantané fait au plus {MaxSnapshotBytes / 1024 / 1024} Mo.");

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
        var file = form.Files["file"];
        var dateText = form["date"].ToString() is { Length: > 0 } fd ? fd : http.Request.Query["date"].ToString();
        if (file is null || file.Length == 0)
            return await Refuse(400, "Fichier manquant", "Le champ « file » doit contenir le CSV de l'annuaire (format OpenDataFrance).");
        if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", out var date) || date < QueryParameters.FirstDate || date > ObservationWriter.Today)
            return await Refuse(400, "Date invalide", $"« date » = « {dateText} » : date d'observation AAAA-MM-JJ attendue, du {QueryParameters.FirstDate:yyyy-MM-dd} à aujourd'hui.");

        var name = Path.GetFileName(file.FileName) is { Length: > 0 and < 100 } n && !n.Any(char.IsControl) ? n : "instantane.csv";
        var dir = Directory.CreateTempSubdirectory("obs-upload-");
        var path = Path.Combine(dir.FullName, name);
        var log = new StringWriter();
        try
        {
            await using (var f = File.Create(path)) await file.CopyToAsync(f, ct);
            var importer = new StatusImporter(db, log) { Guards = ImportGuardOptions.From(config, form["acceptLargeChange"] == "true") };
            var r = await importer.ImportAsync(path, date, complete: form["complete"] != "false", dryRun: dryRun, ct: ct);
            if (!dryRun && !r.Skipped) await MapCache.EvictAsync(http.RequestServices, ct);
            var summary = new
            {
                dryRun, skipped = r.Skipped, source = r.Source, file = name, rows = r.Rows, rejected = r.Rejected, byMethod = r.ByMethod,
                rejections = r.Rejections.Take(1000).Select(x => new { line = x.Line, reason = x.Reason }),
                report = log.ToString().Replace(path, name),
            };
            await AuditLog.WriteAsync(db, http, who, new(action, 200, null, After: new { summary.source, summary.file, summary.rows, summary.rejected, summary.skipped }));
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(summary);
        }
        catch (ImportRefusedException e)
        {
            return await Refuse(422, "Import refusé par les garde-fous", e.Message + " Rien n'a été écrit.", log.ToString().Replace(path, name));
        }
        catch (ImportException e)
        {
            return await Refuse(400, "Fichier refusé", e.Message.Replace(path, name) + " Rien n'a été écrit.");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
