using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Observatoire.Api;

namespace Observatoire.Contributions;

/// <summary>One write attempt, as the audit log keeps it.</summary>
public sealed record AuditRecord(string Action, int Status, string? Reason = null, string? CollectiviteId = null, long? ObservationId = null,
    object? Before = null, object? After = null);

/// <summary>
/// The append-only audit log (<c>audit_entry</c>, migration 011): one row per write attempt, refused ones
/// included, with who, when, what, before/after, the request id and the client address. Accepted writes
/// append in their own transaction (the row exists if and only if the write does); refusals append on
/// their own. Administrators read it at /api/audit and in OData (AuditEntries).
/// </summary>
public static class AuditLog
{
    public static async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, HttpContext http, Contributor? who, AuditRecord r,
        CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            insert into audit_entry (actor, api_key_id, role, action, collectivite_id, observation_id, status, outcome, reason,
                                     before, after, request_id, client_address)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """, conn, tx);
        cmd.Parameters.AddWithValue(who?.Name ?? "anonyme");
        cmd.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = who?.KeyId, NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.AddWithValue((object?)who?.Role ?? DBNull.Value);
        cmd.Parameters.AddWithValue(r.Action);
        cmd.Parameters.AddWithValue((object?)r.CollectiviteId ?? DBNull.Value);
        cmd.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = r.ObservationId, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.AddWithValue(r.Status);
        cmd.Parameters.AddWithValue(r.Status < 300 ? "accepted" : "refused");
        cmd.Parameters.AddWithValue((object?)r.Reason ?? DBNull.Value);
        cmd.Parameters.Add(Json(r.Before));
        cmd.Parameters.Add(Json(r.After));
        cmd.Parameters.AddWithValue(http.TraceIdentifier);
        cmd.Parameters.AddWithValue((object?)http.Connection.RemoteIpAddress?.ToString() ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    static NpgsqlParameter Json(object? value) => new()
    {
        NpgsqlDbType = NpgsqlDbType.Jsonb,
        Value = value is null ? DBNull.Value : value as string ?? JsonSerializer.Serialize(value, JsonOptions),
    };

    /// <summary>Appended on its own connection: a refusal (the write's transaction, if any, was rolled back) or a snapshot import.</summary>
    public static async Task WriteAsync(NpgsqlDataSource db, HttpContext http, Contributor? who, AuditRecord r)
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        await using var tx = await conn.BeginTransactionAsync(CancellationToken.None);
        await using (var role = new NpgsqlCommand("set local role observatoire_writer", conn, tx)) await role.ExecuteNonQueryAsync();
        await AppendAsync(conn, tx, http, who, r, CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
    }

    /// <summary>
    /// GET /api/audit: newest first, filters from, to, key, collectivite; skip/top paging. Administrators
    /// read every entry; an editor reads only its own (what the editor page shows after a write).
    /// </summary>
    public static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var (who, refusal, _) = await ContributorAuth.AuthenticateAsync(http);
        if (refusal is not null) return refusal;
        var p = new QueryParameters(http.Request.Query);
        var from = p.Date("from");
        var to = p.Date("to");
        var key = p.Int("key", 1, int.MaxValue);
        string? actor = null;
        if (!who!.IsAdmin)
        {
            if (key is not null && key != who.KeyId)
                return Problems.Of(403, "Réservé aux administrateurs", "Une clé d'éditeur ne lit que ses propres entrées du journal d'audit.");
            key = who.KeyId;
            if (key is null) actor = who.Name;
        }
        var collectivite = p.Raw("collectivite");
        var skip = p.Int("skip", 0, 1_000_000) ?? 0;
        var top = p.Int("top", 1, 500) ?? 100;
        if (!p.IsValid) return p.Problem();

        await using var cmd = db.CreateCommand("""
            select coalesce(json_agg(json_build_object('id', a.id, 'at', a.at, 'actor', a.actor, 'keyId', a.api_key_id, 'role', a.role,
                       'action', a.action, 'collectivite', a.collectivite_id, 'observation', a.observation_id, 'status', a.status,
                       'outcome', a.outcome, 'reason', a.reason, 'before', a.before, 'after', a.after, 'requestId', a.request_id,
                       'clientAddress', a.client_address) order by a.id desc), '[]'::json)::text
              from (select * from audit_entry
                     where ($1::date is null or at >= $1::date) and ($2::date is null or at < $2::date + 1)
                       and ($3::int is null or api_key_id = $3) and ($4::text is null or collectivite_id = $4)
                       and ($7::text is null or actor = $7)
                     order by id desc offset $5 limit $6) a
            """);
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly?> { TypedValue = from, NpgsqlDbType = NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly?> { TypedValue = to, NpgsqlDbType = NpgsqlDbType.Date });
        cmd.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.AddWithValue((object?)collectivite ?? DBNull.Value);
        cmd.Parameters.AddWithValue(skip);
        cmd.Parameters.AddWithValue(top + 1);
        cmd.Parameters.AddWithValue((object?)actor ?? DBNull.Value);
        var items = JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync(ct))!).RootElement;
        var more = items.GetArrayLength() > top;
        var page = items.EnumerateArray().Take(top).ToList();
        string? next = null;
        if (more)
        {
            var q = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(http.Request.QueryString.Value);
            q["skip"] = (skip + top).ToString(System.Globalization.CultureInfo.InvariantCulture);
            next = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/api/audit", q.SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v))));
        }
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new { items = page, next });
    }
}
