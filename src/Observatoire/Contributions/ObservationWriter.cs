using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using Observatoire.Data;
using NpgsqlTypes;
using Observatoire.Api;
using Observatoire.Import;
using Observatoire.Map;
using Observatoire.Status;

namespace Observatoire.Contributions;

/// <summary>The body of POST /api/observations (docs/api.md, « Contributions »).</summary>
public sealed class ObservationInput
{
    public string? Collectivite { get; set; }
    public string? ObservedOn { get; set; }
    public int? DatasetsLocal { get; set; }
    public int? DatasetsDataGouv { get; set; }
    public List<string>? Platforms { get; set; }
    public string? Url { get; set; }
    public string? Note { get; set; }
    public long? Supersedes { get; set; }
    /// <summary>False: observed not publishing (a portal closed). Default true: observed publishing.</summary>
    public bool? Open { get; set; }
}

/// <summary>
/// Records an observation sent by a contributor, in ONE transaction run as the database role
/// <c>observatoire_writer</c> (migration 011): the collectivité's row is locked (two editors of the same
/// collectivité are served one after the other, so neither's derived status misses the other's row),
/// the insert itself joins the ATD coverage (an editor's row outside its perimeter is not inserted: 403),
/// a correction marks the row it supersedes (once: a second correction of the same row is a 409),
/// the collectivité's derived status is refreshed, a data release is added (caches and ETags change),
/// the audit row and the Idempotency-Key answer are written. Acknowledged means committed.
/// </summary>
public static partial class ObservationWriter
{
    const int MaxBodyBytes = 16 * 1024;
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    public static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        const string action = "observation.create";
        var (who, refusal, reason) = await ContributorAuth.AuthenticateAsync(http);
        if (refusal is not null)
        {
            await AuditLog.WriteAsync(db, http, null, new(action, 401, reason));
            return refusal;
        }

        var (input, bodyProblem) = await ReadBodyAsync(http, ct);
        if (bodyProblem is not null)
        {
            await AuditLog.WriteAsync(db, http, who, new(action, bodyProblem.Value.Status, bodyProblem.Value.Detail));
            return Problems.Of(bodyProblem.Value.Status, bodyProblem.Value.Title, bodyProblem.Value.Detail);
        }
        var errors = Validate(input!, out var observedOn);
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 200 || idempotencyKey.Any(char.IsControl))
            errors.Add("en-tête Idempotency-Key : 200 caractères imprimables au plus (un identifiant unique par requête, ex. un UUID)");
        if (errors.Count > 0)
        {
            var detail = string.Join(" ; ", errors) + ".";
            await AuditLog.WriteAsync(db, http, who, new(action, 400, detail, After: input));
            return Problems.Of(400, "Observation invalide", detail);
        }
        var requestHash = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(input, Json)));
        var actor = who!.KeyId is { } k ? "key:" + k : "oidc:" + who.Name;

        await using var conn = await db.OpenConnectionAsync(ct);
        if (idempotencyKey.Length > 0 && await StoredAnswerAsync(conn, null, actor, idempotencyKey, requestHash, http, ct) is { } replay)
            return replay;

        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecAsync(tx, "set local role observatoire_writer", ct);

        // The collectivité, locked until the commit: by identifier, SIREN or commune INSEE code.
        var target = await FindAsync(conn, tx, input!.Collectivite!.Trim(), ct);
        if (target is null)
        {
            await tx.RollbackAsync(ct);
            var d = $"Aucune collectivité « {input.Collectivite} » : donnez son identifiant (COM-35238, EPCI-243500139, DEP-35), son SIREN ou le code INSEE d'une commune.";
            await AuditLog.WriteAsync(db, http, who, new(action, 422, d, After: input));
            return Problems.Of(422, "Collectivité inconnue", d);
        }
        var (collectiviteId, before) = target.Value;
        var act = input.Supersedes is null ? action : "observation.supersede";

        if (input.Supersedes is { } old)
        {
            await using var check = new NpgsqlCommand("select collectivite_id, superseded_by from observation where id = $1", conn, tx);
            check.Parameters.AddWithValue(old);
            await using var rd = await check.ExecuteReaderAsync(ct);
            string? problem = null; var status = 422;
            if (!await rd.ReadAsync(ct) || rd.IsDBNull(0) || rd.GetString(0) != collectiviteId)
                problem = $"L'observation n° {old} n'existe pas ou ne concerne pas {collectiviteId} : « supersedes » désigne une observation de la même collectivité.";
            else if (!rd.IsDBNull(1))
            {
                status = 409;
                problem = $"L'observation n° {old} a déjà été corrigée par l'observation n° {rd.GetInt64(1)} : corrigez plutôt celle-ci.";
            }
            await rd.DisposeAsync();
            if (problem is not null)
            {
                await tx.RollbackAsync(ct);
                await AuditLog.WriteAsync(db, http, who, new(act, status, problem, collectiviteId, old, before, input));
                return Problems.Of(status, status == 409 ? "Observation déjà corrigée" : "Observation à corriger introuvable", problem);
            }
        }

        // The perimeter is a condition of the insert itself: outside it, nothing is inserted.
        long id;
        await using (var insert = new NpgsqlCommand("""
            insert into observation (subject_key, collectivite_id, observed_on, source, is_listed, datasets_local, datasets_datagouv,
                                     platforms, url, match_method, match_evidence, subject_siren, subject_name, subject_type,
                                     note, contributor, recorded_at)
            select 'contribution:' || gen_random_uuid(), c.id, $2, 'contribution', $3, $4, $5, $6, $7, 'contribution',
                   'enregistrée par ' || $8, c.siren, c.name, c.type, $9, $8, now()
              from collectivite c
             where c.id = $1
               and ($10 = 'admin' or exists (select 1 from atd_coverage ac where ac.atd_id = $11 and ac.collectivite_id = c.id))
            returning id
            """, conn, tx))
        {
            insert.Parameters.AddWithValue(collectiviteId);
            insert.Parameters.AddWithValue(observedOn);
            insert.Parameters.AddWithValue(input.Open ?? true);
            insert.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = input.DatasetsLocal, NpgsqlDbType = NpgsqlDbType.Integer });
            insert.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = input.DatasetsDataGouv, NpgsqlDbType = NpgsqlDbType.Integer });
            insert.Parameters.AddWithValue(input.Platforms is { Count: > 0 } pl ? string.Join("; ", pl.Select(x => x.Trim())) : DBNull.Value);
            insert.Parameters.AddWithValue((object?)NullIfBlank(input.Url) ?? DBNull.Value);
            insert.Parameters.AddWithValue(who.Name);
            insert.Parameters.AddWithValue((object?)NullIfBlank(input.Note) ?? DBNull.Value);
            insert.Parameters.AddWithValue(who.Role);
            insert.Parameters.AddWithValue((object?)who.AtdId ?? DBNull.Value);
            if (await insert.ExecuteScalarAsync(ct) is not long newId)
            {
                await tx.RollbackAsync(ct);
                var d = $"{collectiviteId} n'est pas dans le périmètre de l'ATD {who.AtdId} : votre clé ne peut pas y enregistrer d'observation.";
                await AuditLog.WriteAsync(db, http, who, new(act, 403, d, collectiviteId, input.Supersedes, before, input));
                return Problems.Of(403, "Hors de votre périmètre", d);
            }
            id = newId;
        }
        if (input.Supersedes is { } superseded)
            await conn.ExecAsync(tx, "update observation set superseded_by = $1 where id = $2 and superseded_by is null", ct, id, superseded);

        // (The collectivité's status runs and derived columns follow: the observation table's triggers.)
        await conn.ExecAsync(tx, "insert into data_release (kind, vintage, checksum) values ('contribution', $1, $2)", ct,
            observedOn.ToString("yyyy-MM-dd"), "observation:" + id);
        var after = await StateAsync(conn, tx, collectiviteId, ct);
        var body = await ReadAsync(conn, tx, id, ct);
        await AuditLog.AppendAsync(conn, tx, http, who, new(act, 201, null, collectiviteId, id, before, JsonDocument.Parse(after)), ct);
        var location = $"/api/observations/{id}";
        if (idempotencyKey.Length > 0)
        {
            await using var save = new NpgsqlCommand("""
                insert into idempotency_record (actor, key, request_hash, status, location, body) values ($1, $2, $3, 201, $4, $5)
                on conflict do nothing returning 1
                """, conn, tx);
            save.Parameters.AddWithValue(actor);
            save.Parameters.AddWithValue(idempotencyKey);
            save.Parameters.AddWithValue(requestHash);
            save.Parameters.AddWithValue(location);
            save.Parameters.AddWithValue(body!);
            // A concurrent request with the same key committed first (this insert waited for it): its answer stands.
            if (await save.ExecuteScalarAsync(ct) is null)
            {
                await tx.RollbackAsync(ct);
                return (await StoredAnswerAsync(conn, null, actor, idempotencyKey, requestHash, http, ct))!;
            }
        }
        await tx.CommitAsync(ct);
        await MapCache.EvictAsync(http.RequestServices, ct);
        return new Created(location, Results.Text(body!, "application/json", Encoding.UTF8, 201));
    }

    /// <summary>201 with a Location header and the observation as the body.</summary>
    sealed class Created(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            http.Response.Headers.CacheControl = "no-store";
            return inner.ExecuteAsync(http);
        }
    }

    /// <summary>The first answer to this Idempotency-Key, or null; 422 when the key was used for another body.</summary>
    static async Task<IResult?> StoredAnswerAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string actor, string key, string requestHash,
        HttpContext http, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select request_hash, status, location, body from idempotency_record where actor = $1 and key = $2", conn, tx);
        cmd.Parameters.AddWithValue(actor);
        cmd.Parameters.AddWithValue(key);
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        if (!await rd.ReadAsync(ct)) return null;
        if (rd.GetString(0) != requestHash)
            return Problems.Of(422, "Clé d'idempotence déjà utilisée",
                $"L'en-tête Idempotency-Key « {key} » a déjà servi pour une autre observation : une clé par requête (un UUID neuf à chaque nouvelle observation).");
        http.Response.Headers["Idempotent-Replayed"] = "true";
        return new Created(rd.GetString(2), Results.Text(rd.GetString(3), "application/json", Encoding.UTF8, rd.GetInt32(1)));
    }

    static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>Reads the JSON body (at most 16 KiB); a problem (status, title, detail) when it cannot be.</summary>
    static async Task<(ObservationInput?, (int Status, string Title, string Detail)?)> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        if (!http.Request.HasJsonContentType())
            return (null, (415, "Type de contenu non pris en charge", "Envoyez l'observation en JSON (Content-Type: application/json)."));
        if (http.Request.ContentLength > MaxBodyBytes)
            return (null, (413, "Corps trop volumineux", $"Une observation tient en {MaxBodyBytes / 1024} Kio au plus."));
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await http.Request.Body.ReadAsync(buffer, ct)) > 0)
            {
                if (limited.Length + n > MaxBodyBytes)
                    return (null, (413, "Corps trop volumineux", $"Une observation tient en {MaxBodyBytes / 1024} Kio au plus."));
                limited.Write(buffer, 0, n);
            }
            var input = JsonSerializer.Deserialize<ObservationInput>(limited.ToArray(), Json);
            return input is null ? (null, (400, "Observation invalide", "Le corps est vide : envoyez un objet JSON.")) : (input, null);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 1 } p ? $" (à {p})" : "";
            return (null, (400, "JSON invalide", $"Le corps n'est pas une observation JSON valide{where} : champs attendus collectivite, observedOn, datasetsLocal, datasetsDataGouv, platforms, url, note, supersedes, open."));
        }
    }

    /// <summary>Every problem of the body, in French; the same rules as the importer (SIREN and Luhn, dates, counts, URLs).</summary>
    static List<string> Validate(ObservationInput i, out DateOnly observedOn)
    {
        var errors = new List<string>();
        observedOn = default;
        var c = i.Collectivite?.Trim();
        if (string.IsNullOrEmpty(c)) errors.Add("« collectivite » est obligatoire (identifiant COM-35238, SIREN ou code INSEE de commune)");
        else if (!CollectiviteRef().IsMatch(c)) errors.Add($"« collectivite » = « {Shown(c)} » : identifiant (COM-35238), SIREN (9 chiffres) ou code INSEE de commune (5 caractères) attendu");
        else if (c.Length == 9 && c.All(char.IsAsciiDigit) && Siren.Problem(c) is { } sirenProblem) errors.Add($"« collectivite » : {sirenProblem}");
        var today = QueryParameters.Today;
        if (string.IsNullOrWhiteSpace(i.ObservedOn)) errors.Add("« observedOn » est obligatoire (AAAA-MM-JJ)");
        else if (!DateOnly.TryParseExact(i.ObservedOn, "yyyy-MM-dd", out observedOn))
            errors.Add($"« observedOn » = « {Shown(i.ObservedOn)} » : date AAAA-MM-JJ attendue");
        else if (observedOn < QueryParameters.FirstDate || observedOn > today)
            errors.Add($"« observedOn » = {observedOn:yyyy-MM-dd} : la date doit aller du {QueryParameters.FirstDate:yyyy-MM-dd} à aujourd'hui ({today:yyyy-MM-dd}), jamais dans le futur");
        if (i.DatasetsLocal is < 0 or > 1_000_000) errors.Add($"« datasetsLocal » = {i.DatasetsLocal} : nombre de jeux de données de 0 à 1 000 000 (null si inconnu)");
        if (i.DatasetsDataGouv is < 0 or > 1_000_000) errors.Add($"« datasetsDataGouv » = {i.DatasetsDataGouv} : nombre de jeux de données de 0 à 1 000 000 (null si inconnu)");
        if (NullIfBlank(i.Url) is { } url && ImportGuards.UrlProblem(url) is { } urlProblem) errors.Add("« url » : " + urlProblem);
        if (i.Open == false && (i.DatasetsLocal > 0 || i.DatasetsDataGouv > 0)) errors.Add("« open » = false avec des jeux de données : une collectivité qui publie est ouverte");
        if (i.Platforms is { } platforms && (platforms.Count > 20 || platforms.Any(p => string.IsNullOrWhiteSpace(p) || p.Length > 200 || p.Any(char.IsControl) || p.Contains(';'))))
            errors.Add("« platforms » : 20 noms de plateformes au plus, non vides, de 200 caractères au plus, sans point-virgule");
        if (i.Note is { } note && (note.Length > 2000 || note.Any(ch => char.IsControl(ch) && ch is not ('\n' or '\r' or '\t'))))
            errors.Add("« note » : 2 000 caractères au plus, sans caractère de contrôle");
        return errors;
    }

    static string Shown(string s) => s.Length > 40 ? s[..40] + "…" : new string(s.Select(ch => char.IsControl(ch) ? '?' : ch).ToArray());

    [GeneratedRegex(@"^([A-Z]{2,5}-[0-9A-Z]{1,9}|[0-9]{9}|[0-9][0-9AB][0-9]{3})$")]
    private static partial Regex CollectiviteRef();

    /// <summary>A collectivité's derived status as the audit log keeps it (before and after a write), over <c>c</c>.</summary>
    const string StateJson = "json_build_object('isOpen', c.is_open, 'datasetCount', c.dataset_count, 'lastObservedOn', c.last_observed_on)::text";

    /// <summary>The collectivité named by identifier, SIREN or commune code, locked; with its status before the write.</summary>
    static async Task<(string Id, JsonDocument Before)?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string reference, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select c.id, {StateJson}
              from collectivite c
             where c.id = $1 or (length($1) = 9 and c.siren = $1 and c.type <> 'COLOM') or (length($1) = 5 and c.type = 'COM' and c.code = $1)
             order by c.id = $1 desc, c.type = 'COM' desc
             limit 1
               for update of c
            """, conn, tx);
        cmd.Parameters.AddWithValue(reference);
        await using var rd = await cmd.ExecuteReaderAsync(ct);
        return await rd.ReadAsync(ct) ? (rd.GetString(0), JsonDocument.Parse(rd.GetString(1))) : null;
    }

    static async Task<string> StateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            select {StateJson} from collectivite c where c.id = $1
            """, conn, tx);
        cmd.Parameters.AddWithValue(id);
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>One observation as the API shows it (GET /api/observations/{id}); null when there is none.</summary>
    public static async Task<string?> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            select json_build_object('id', o.id,
                     'collectivite', case when c.id is not null then json_build_object('id', c.id, 'name', c.name, 'type', c.type) end,
                     'observedOn', o.observed_on, 'open', o.is_listed, 'datasetsLocal', o.datasets_local, 'datasetsDataGouv', o.datasets_datagouv,
                     'platforms', case when o.source = 'contribution' then coalesce(string_to_array(o.platforms, '; '), '{}')
                                       else array_remove(array[o.platforms], null) end,
                     'url', case when o.url ~* '^https?://[^\s]+$' then o.url end, 'note', o.note, 'source', o.source,
                     'supersedes', (select s.id from observation s where s.superseded_by = o.id),
                     'supersededBy', o.superseded_by, 'recordedBy', o.contributor, 'recordedAt', o.recorded_at)::text
              from observation o left join collectivite c on c.id = o.collectivite_id
             where o.id = $1
            """, conn, tx);
        cmd.Parameters.AddWithValue(id);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
