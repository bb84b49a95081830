using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Npgsql;
using Observatoire.Api;

namespace Observatoire.Contributions;

/// <summary>Who writes: an API key's name (or an OpenID subject), its role and, for an ATD editor, its ATD.</summary>
public sealed record Contributor(string Name, int? KeyId, string Role, string? AtdId)
{
    public const string Admin = "admin", AtdEditor = "atd-editor";
    public bool IsAdmin => Role == Admin;

    public const string RoleClaim = "observatoire_role", AtdClaim = "observatoire_atd", KeyClaim = "observatoire_key";

    /// <summary>From an authenticated principal (API key or OpenID token); null without a known role.</summary>
    public static Contributor? From(ClaimsPrincipal user)
    {
        var role = user.FindFirst(RoleClaim)?.Value;
        if (role is not (Admin or AtdEditor)) return null;
        var atd = user.FindFirst(AtdClaim)?.Value;
        if (role == AtdEditor && string.IsNullOrEmpty(atd)) return null;
        var name = user.FindFirst(ClaimTypes.Name)?.Value ?? user.FindFirst("preferred_username")?.Value
            ?? user.FindFirst("sub")?.Value ?? "inconnu";
        return new(name, int.TryParse(user.FindFirst(KeyClaim)?.Value, out var k) ? k : null, role, role == AtdEditor ? atd : null);
    }
}

/// <summary>Settings of section <c>Authentication</c>: the OpenID Connect provider, off unless an authority is set.</summary>
public sealed class ContributorAuthOptions
{
    /// <summary>Issuer of the bearer tokens (its /.well-known/openid-configuration gives the signing keys). Empty: no OpenID tokens.</summary>
    public string? OidcAuthority { get; set; }
    public string? OidcAudience { get; set; }
}

/// <summary>
/// Authentication of the write API: <c>Authorization: Bearer &lt;token&gt;</c> only (never a URL or a cookie).
/// A token that starts with <see cref="ApiKeys.Prefix"/> is an API key looked up by its hash on every
/// request (a revoked or expired key stops working at once); any other token goes to the OpenID Connect
/// provider when one is configured, whose tokens carry the role and the ATD in the claims
/// <see cref="Contributor.RoleClaim"/> and <see cref="Contributor.AtdClaim"/>.
/// </summary>
public static class ContributorAuth
{
    public const string Scheme = "Bearer", ApiKeyScheme = "ApiKey", OidcScheme = "Oidc";

    public static IServiceCollection AddContributorAuth(this IServiceCollection services, IConfiguration config)
    {
        var o = config.GetSection("Authentication").Get<ContributorAuthOptions>() ?? new();
        var oidc = !string.IsNullOrWhiteSpace(o.OidcAuthority);
        // No default scheme: ASP.NET adds the authentication middleware by itself, in front of the
        // exception handler, and with a default it would look every bearer token up on every request
        // (a database outage there answered 500). Only the write endpoints authenticate, explicitly.
        var auth = services.AddAuthentication()
            .AddPolicyScheme(Scheme, null, p => p.ForwardDefaultSelector = ctx =>
                oidc && BearerToken(ctx.Request) is { } t && !t.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) ? OidcScheme : ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyScheme, null);
        if (oidc)
            auth.AddJwtBearer(OidcScheme, j =>
            {
                j.Authority = o.OidcAuthority;
                j.Audience = o.OidcAudience;
                j.MapInboundClaims = false;   // keep the provider's claim names (sub, observatoire_role…)
            });
        return services;
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var h = request.Headers.Authorization.ToString();
        return h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && h.Length > 7 ? h[7..].Trim() : null;
    }

    /// <summary>
    /// The caller of a write, or the problem to answer: 401 (no token, or an unknown, revoked or expired
    /// one) with <c>WWW-Authenticate: Bearer</c>.
    /// </summary>
    public static async Task<(Contributor? Who, IResult? Refusal, string Reason)> AuthenticateAsync(HttpContext http)
    {
        if (BearerToken(http.Request) is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"observatoire\"";
            return (null, Problems.Of(401, "Authentification requise",
                "Cette opération demande une clé d'API, envoyée dans l'en-tête « Authorization: Bearer <clé> »."), "sans clé");
        }
        var result = await http.AuthenticateAsync(Scheme);
        if (result.Succeeded && Contributor.From(result.Principal) is { } who) return (who, null, "");
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"observatoire\", error=\"invalid_token\"";
        return (null, Problems.Of(401, "Clé refusée",
            "La clé d'API est inconnue, révoquée ou expirée (ou le jeton n'est pas valide) : demandez-en une nouvelle à un administrateur."),
            "clé inconnue, révoquée ou expirée");
    }
}

/// <summary>Looks an API key up by its SHA-256 hash: valid, not revoked, not expired.</summary>
public sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    NpgsqlDataSource db) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ContributorAuth.BearerToken(Request) is not { } token) return AuthenticateResult.NoResult();
        if (!token.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) || token.Length > 200) return AuthenticateResult.Fail("not an API key");
        await using var cmd = db.CreateCommand("""
            select id, name, role, atd_id from api_key
             where hash = $1 and revoked_at is null and (expires_on is null or expires_on >= $2)
            """);
        cmd.Parameters.AddWithValue(ApiKeys.Hash(token));
        cmd.Parameters.AddWithValue(QueryParameters.Today); // a key works to the end of its last day in France
        await using var rd = await cmd.ExecuteReaderAsync(Context.RequestAborted);
        if (!await rd.ReadAsync(Context.RequestAborted)) return AuthenticateResult.Fail("unknown, revoked or expired key");
        var claims = new List<Claim>
        {
            new(Contributor.KeyClaim, rd.GetInt32(0).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, rd.GetString(1)),
            new(Contributor.RoleClaim, rd.GetString(2)),
        };
        if (!rd.IsDBNull(3)) claims.Add(new(Contributor.AtdClaim, rd.GetString(3)));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name)), Scheme.Name));
    }
}

/// <summary>API keys: 32 random bytes, shown once; only their SHA-256 is stored (CLI verbs <c>keys …</c>).</summary>
public static class ApiKeys
{
    public const string Prefix = "obs_";

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static async Task<(int Id, string Key)> CreateAsync(NpgsqlDataSource db, string name, string role, string? atd, DateOnly? expires,
        CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("--name est obligatoire (le nom de la personne ou de l'équipe qui utilisera la clé).");
        if (role is not (Contributor.Admin or Contributor.AtdEditor)) throw new ArgumentException("--role vaut admin ou atd-editor.");
        if (role == Contributor.AtdEditor && string.IsNullOrWhiteSpace(atd)) throw new ArgumentException("une clé atd-editor demande --atd ID (l'ATD dont elle peut modifier le périmètre).");
        if (role == Contributor.Admin && atd is not null) throw new ArgumentException("une clé admin n'a pas d'ATD : retirez --atd.");
        if (atd is not null)
        {
            await using var check = db.CreateCommand("select 1 from atd where id = $1");
            check.Parameters.AddWithValue(atd);
            if (await check.ExecuteScalarAsync(ct) is null) throw new ArgumentException($"ATD inconnu : {atd} (voir /api/atd).");
        }
        var key = Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        await using var cmd = db.CreateCommand("""
            insert into api_key (name, role, atd_id, prefix, hash, expires_on) values ($1, $2, $3, $4, $5, $6) returning id
            """);
        cmd.Parameters.AddWithValue(name.Trim());
        cmd.Parameters.AddWithValue(role);
        cmd.Parameters.AddWithValue((object?)atd ?? DBNull.Value);
        cmd.Parameters.AddWithValue(key[..(Prefix.Length + 6)]);
        cmd.Parameters.AddWithValue(Hash(key));
        cmd.Parameters.Add(new NpgsqlParameter<DateOnly?>() { TypedValue = expires, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        return ((int)(await cmd.ExecuteScalarAsync(ct))!, key);
    }

    static string Base64UrlEncode(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>CLI: <c>keys create|list|revoke</c>.</summary>
    public static async Task<int> RunAsync(NpgsqlDataSource db, string[] args, TextWriter output, TextWriter error)
    {
        string? Opt(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        switch (args.FirstOrDefault())
        {
            case "create":
                try
                {
                    DateOnly? expires = Opt("--expires") is { } e
                        ? DateOnly.TryParseExact(e, "yyyy-MM-dd", out var d) ? d : throw new ArgumentException("--expires attend une date AAAA-MM-JJ.")
                        : null;
                    var (id, key) = await CreateAsync(db, Opt("--name") ?? "", Opt("--role") ?? "", Opt("--atd"), expires);
                    output.WriteLine($"Clé n° {id} créée. Elle ne sera plus jamais affichée : transmettez-la maintenant, par un canal sûr.");
                    output.WriteLine(key);
                    return 0;
                }
                catch (ArgumentException e)
                {
                    error.WriteLine("Erreur : " + e.Message);
                    return 64;
                }
            case "list":
            {
                await using var cmd = db.CreateCommand("""
                    select id, name, role, coalesce(atd_id, '-'), prefix || '…', created_at::date, coalesce(expires_on::text, '-'),
                           case when revoked_at is not null then 'révoquée le ' || revoked_at::date
                                when expires_on < $1 then 'expirée' else 'active' end
                      from api_key order by id
                    """);
                cmd.Parameters.AddWithValue(QueryParameters.Today);
                await using var rd = await cmd.ExecuteReaderAsync();
                output.WriteLine("n°\tnom\trôle\tATD\tdébut de la clé\tcréée le\texpire le\tétat");
                while (await rd.ReadAsync())
                    output.WriteLine($"{rd.GetInt32(0)}\t{rd.GetString(1)}\t{rd.GetString(2)}\t{rd.GetString(3)}\t{rd.GetString(4)}\t{rd.GetFieldValue<DateOnly>(5):yyyy-MM-dd}\t{rd.GetString(6)}\t{rd.GetString(7)}");
                return 0;
            }
            case "revoke" when args.Length > 1 && int.TryParse(args[1], out var revokeId):
            {
                await using var cmd = db.CreateCommand("update api_key set revoked_at = now() where id = $1 and revoked_at is null");
                cmd.Parameters.AddWithValue(revokeId);
                if (await cmd.ExecuteNonQueryAsync() == 1) { output.WriteLine($"Clé n° {revokeId} révoquée : elle est refusée dès maintenant."); return 0; }
                error.WriteLine($"Erreur : aucune clé active n° {revokeId} (voir « keys list »).");
                return 2;
            }
            default:
                error.WriteLine("Usage : keys create --name NOM --role admin|atd-editor [--atd ID] [--expires AAAA-MM-JJ] | keys list | keys revoke N");
                return 64;
        }
    }
}
