using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Observatoire.Api;
using Observatoire.Contributions;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Contributions;

/// <summary>
/// The write API as its users meet it: keys and roles (401, 403 outside the perimeter with nothing
/// written, revoked and expired keys, what only an administrator may do), every refused write a French
/// 4xx that changes no data, one audit row per attempt that the app's role cannot alter, retries with
/// Idempotency-Key, corrections, concurrent editors, and a write visible at once in the indicators, the
/// card, the to-do list and the tiles. Perimeter facts are the communes' own (Bruz and Betton are
/// communes of Rennes Métropole, Paris is not), checked against the COG file.
/// </summary>
public sealed class ContributionApiTests(LoadedDatabase db) : IClassFixture<LoadedDatabase>
{
    const string Atd = "rennes-metropole";
    static readonly string Today = QueryParameters.Today.ToString("yyyy-MM-dd");

    HttpClient Client(string? key)
    {
        var c = db.App.CreateClient();
        if (key is not null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return c;
    }

    static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    Task<long> AuditCount() => db.ScalarAsync<long>("select count(*) from audit_entry");

    /// <summary>Every table but the audit log (which records refusals by design) and the keys.</summary>
    async Task<SortedDictionary<string, string>> DataAsync()
    {
        var all = await TableChecksums.RowVersionsAsync(db.DataSource);
        all.Remove("audit_entry");
        all.Remove("api_key");
        return all;
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage r, HttpStatusCode expected)
    {
        Assert.Equal(expected, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var p = await r.Content.ReadFromJsonAsync<JsonElement>();
        // French: the words any sentence of ours has.
        Assert.Matches(@"(?i)\b(la|le|les|une|un|des|du|de|en|est|à|a|par|au|pas|date)\b", p.GetProperty("detail").GetString());
        return p;
    }

    [Fact]
    public void The_perimeter_facts_used_here_come_from_the_cog_file()
    {
        var members = RawCog.Epci.Single(e => (string?)e!["code"] == "243500139")!["membres"]!.AsArray().Select(m => (string?)m!["code"]).ToList();
        Assert.Contains("35047", members);   // Bruz
        Assert.Contains("35024", members);   // Betton
        Assert.Contains("35051", members);   // Cesson-Sévigné
        Assert.Contains("35066", members);   // Chartres-de-Bretagne
        Assert.DoesNotContain("75056", members);
        var registry = RawOdf.Atd.Single(r => r["atd_id"] == Atd);
        Assert.Contains("243500139", registry["perimeter_codes"]);
    }

    [Fact]
    public async Task Without_a_key_or_with_a_bad_one_a_write_is_401_and_audited()
    {
        var before = await DataAsync();
        var audit = await AuditCount();
        var body = new { collectivite = "COM-35047", observedOn = Today };
        var r = await Client(null).PostAsync("/api/observations", Json(body));
        await ProblemAsync(r, HttpStatusCode.Unauthorized);
        Assert.StartsWith("Bearer", r.Headers.WwwAuthenticate.ToString());
        r = await Client("obs_pas-une-vraie-cle").PostAsync("/api/observations", Json(body));
        await ProblemAsync(r, HttpStatusCode.Unauthorized);
        // A key in the URL is not a key.
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "url", Contributor.Admin, null, null);
        r = await Client(null).PostAsync("/api/observations?access_token=" + key, Json(body));
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Equal(before, await DataAsync());
        Assert.Equal(audit + 3, await AuditCount());
        Assert.Equal(3L, await db.ScalarAsync<long>("select count(*) from (select * from audit_entry order by id desc limit 3) a where status = 401 and outcome = 'refused'"));
    }

    [Fact]
    public async Task An_atd_editor_writes_inside_its_perimeter_and_gets_403_outside_with_nothing_written()
    {
        var (keyId, key) = await ApiKeys.CreateAsync(db.DataSource, "ATD Rennes (test)", Contributor.AtdEditor, Atd, null);
        var client = Client(key);
        var before = await DataAsync();
        var r = await client.PostAsync("/api/observations", Json(new { collectivite = "75056", observedOn = Today, datasetsLocal = 3 }));
        var p = await ProblemAsync(r, HttpStatusCode.Forbidden);
        Assert.Contains(Atd, p.GetProperty("detail").GetString());
        Assert.Equal(before, await DataAsync());
        Assert.Equal("refused", await db.ScalarAsync<string>("select outcome from audit_entry where api_key_id = $1 order by id desc limit 1", keyId));

        r = await client.PostAsync("/api/observations", Json(new { collectivite = "35047", observedOn = Today, datasetsLocal = 7, url = "https://example.org/bruz" }));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var o = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("COM-35047", o.GetProperty("collectivite").GetProperty("id").GetString());
        Assert.Equal($"/api/observations/{o.GetProperty("id").GetInt64()}", r.Headers.Location?.ToString());
        var row = (await db.RowsAsync("select collectivite_id, observed_on::text, datasets_local, contributor, source from observation where id = $1", o.GetProperty("id").GetInt64())).Single();
        Assert.Equal(["COM-35047", Today, 7, "ATD Rennes (test)", "contribution"], row);
        var audit = (await db.RowsAsync("select action, status, outcome, collectivite_id, observation_id from audit_entry where api_key_id = $1 order by id desc limit 1", keyId)).Single();
        Assert.Equal(["observation.create", 201, "accepted", "COM-35047", o.GetProperty("id").GetInt64()], audit);
        // The check that the refusals above wrote nothing sees this write.
        Assert.NotEqual(before, await DataAsync());
    }

    [Fact]
    public async Task An_administrator_can_do_what_an_editor_cannot()
    {
        var (_, editor) = await ApiKeys.CreateAsync(db.DataSource, "éditeur", Contributor.AtdEditor, Atd, null);
        var (_, admin) = await ApiKeys.CreateAsync(db.DataSource, "administrateur", Contributor.Admin, null, null);
        var body = new { collectivite = "COM-13055", observedOn = Today, datasetsDataGouv = 40 };
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(editor).PostAsync("/api/observations", Json(body))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Client(admin).PostAsync("/api/observations", Json(body))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(editor).GetAsync("/odata/AuditEntries")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client(admin).GetAsync("/odata/AuditEntries?$top=1")).StatusCode);
        var lastAudit = await db.ScalarAsync<long>("select max(id) from audit_entry");
        var action = await Client(admin).GetFromJsonAsync<JsonElement>($"/odata/AuditEntries({lastAudit})/Action");
        Assert.Equal("observation.create", action.GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client(null).GetAsync($"/odata/AuditEntries({lastAudit})/Action")).StatusCode);
        var form = SnapshotForm(Encoding.UTF8.GetBytes("a,b\n1,2\n"), "2022-10-19");
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(editor).PostAsync("/api/snapshots", form)).StatusCode);
        // The editor reads its own audit entries only; the administrator reads everyone's.
        var own = await Client(editor).GetFromJsonAsync<JsonElement>("/api/audit");
        Assert.All(own.GetProperty("items").EnumerateArray(), e => Assert.Equal("éditeur", e.GetProperty("actor").GetString()));
        var all = await Client(admin).GetFromJsonAsync<JsonElement>("/api/audit?top=500");
        Assert.Contains(all.GetProperty("items").EnumerateArray(), e => e.GetProperty("actor").GetString() == "éditeur");
        Assert.Contains(all.GetProperty("items").EnumerateArray(), e => e.GetProperty("actor").GetString() == "administrateur");
    }

    [Fact]
    public async Task A_revoked_or_expired_key_stops_working_at_once()
    {
        var (id, key) = await ApiKeys.CreateAsync(db.DataSource, "révoquée", Contributor.Admin, null, null);
        var client = Client(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/contributor")).StatusCode);
        var output = new StringWriter();
        Assert.Equal(0, await ApiKeys.RunAsync(db.DataSource, ["revoke", id.ToString()], output, TextWriter.Null));
        Assert.Contains("révoquée", output.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/contributor")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/api/observations", Json(new { collectivite = "COM-35238", observedOn = Today }))).StatusCode);

        var (_, expired) = await ApiKeys.CreateAsync(db.DataSource, "expirée", Contributor.Admin, null, QueryParameters.Today.AddDays(-1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client(expired).GetAsync("/api/contributor")).StatusCode);

        // The list names keys without showing them; only their hash is stored.
        var list = new StringWriter();
        await ApiKeys.RunAsync(db.DataSource, ["list"], list, TextWriter.Null);
        Assert.DoesNotContain(key, list.ToString());
        Assert.Contains("révoquée le", list.ToString());
        Assert.True(await db.ScalarAsync<bool>("select hash = sha256(convert_to($1, 'UTF8')) and prefix <> $1 from api_key where id = $2", key, id));
    }

    public static TheoryData<string, int, string> RefusedBodies => new()
    {
        { """{"collectivite":"123456789","observedOn":"2022-10-19"}""", 400, "Luhn" },
        { """{"collectivite":"COM-35238","observedOn":"2099-01-01"}""", 400, "jamais dans le futur" },
        { """{"collectivite":"COM-35238","observedOn":"2009-12-31"}""", 400, "2010-01-01" },
        { """{"collectivite":"COM-35238","observedOn":"2022-10-19","url":"javascript:alert(1)"}""", 400, "http" },
        { """{"collectivite":"COM-35238","observedOn":"2022-10-19","datasetsLocal":-4}""", 400, "de 0 à" },
        { """{"collectivite":"COM-99999","observedOn":"2022-10-19"}""", 422, "Aucune collectivité" },
        { """{"collectivite":"732829320","observedOn":"2022-10-19"}""", 422, "Aucune collectivité" },
        { """{"collectivite":"COM-35238","observedOn":"19/10/2022"}""", 400, "AAAA-MM-JJ" },
        { """{"collectivite":"COM-35238","observedOn":"2022-10-19","supersedes":1}""", 422, "supersedes" },
        { """{"collectivite":"COM-35238","observedOn":"2022-10-19","datasetsLocal":"beaucoup"}""", 400, "JSON" },
        { """{"collectivite":"COM-35238","observedOn":"2022-10-19","inconnu":1}""", 400, "JSON" },
        { """[1,2]""", 400, "JSON" },
        { "pas du json", 400, "JSON" },
    };

    [Theory]
    [MemberData(nameof(RefusedBodies))]
    public async Task Every_refused_write_is_a_french_4xx_that_changes_no_data(string body, int status, string expected)
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "refus", Contributor.Admin, null, null);
        var before = await DataAsync();
        var audit = await AuditCount();
        var r = await Client(key).PostAsync("/api/observations", new StringContent(body, Encoding.UTF8, "application/json"));
        var p = await ProblemAsync(r, (HttpStatusCode)status);
        Assert.Contains(expected, p.GetProperty("detail").GetString());
        Assert.Equal(before, await DataAsync());
        Assert.Equal(audit + 1, await AuditCount());
    }

    [Fact]
    public async Task An_oversized_body_or_upload_and_a_wrong_csv_are_refused_without_change()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "gros", Contributor.Admin, null, null);
        var before = await DataAsync();
        var big = JsonSerializer.Serialize(new { collectivite = "COM-35238", observedOn = "2022-10-19", note = new string('x', 20_000) });
        await ProblemAsync(await Client(key).PostAsync("/api/observations", new StringContent(big, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge);
        await ProblemAsync(await Client(key).PostAsync("/api/observations", new StringContent("{}", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);

        var huge = new byte[ContributionEndpoints.MaxSnapshotBytes + 1];
        await ProblemAsync(await Client(key).PostAsync("/api/snapshots?dryRun=false", SnapshotForm(huge, "2022-10-19")), HttpStatusCode.RequestEntityTooLarge);
        var wrong = await Client(key).PostAsync("/api/snapshots?dryRun=false", SnapshotForm(Encoding.UTF8.GetBytes("nom;valeur\nRennes;3\n"), "2022-10-19"));
        var p = await ProblemAsync(wrong, HttpStatusCode.BadRequest);
        Assert.Contains("Rien n'a été écrit", p.GetProperty("detail").GetString());
        Assert.DoesNotContain("/tmp", p.GetProperty("detail").GetString());
        Assert.Equal(before, await DataAsync());
    }

    static MultipartFormDataContent SnapshotForm(byte[] csv, string date) => new()
    {
        { new ByteArrayContent(csv), "file", "annuaire.csv" },
        { new StringContent(date), "date" },
    };

    [Fact]
    public async Task A_snapshot_upload_dry_run_gives_the_diff_and_writes_nothing_then_the_import_writes()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "upload", Contributor.Admin, null, null);
        var file = await File.ReadAllBytesAsync(Path.Combine(TestEnvironment.DataDir, "odf", "organisations-2022-10-19.csv"));
        var before = await DataAsync();
        var r = await Client(key).PostAsync("/api/snapshots", SnapshotForm(file, "2022-10-19"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var report = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(report.GetProperty("dryRun").GetBoolean());
        Assert.Equal(RawOdf.October.Count, report.GetProperty("rows").GetInt32() + report.GetProperty("rejected").GetInt32());
        Assert.Contains("nouvellement ouvertes", report.GetProperty("report").GetString());
        Assert.Equal(before, await DataAsync());
        Assert.Equal("snapshot.dry-run", await db.ScalarAsync<string>("select action from audit_entry order by id desc limit 1"));
    }

    [Fact]
    public async Task An_administrator_uploads_the_atd_registry_with_a_dry_run_and_a_guard_against_a_truncated_file()
    {
        var (_, admin) = await ApiKeys.CreateAsync(db.DataSource, "registre", Contributor.Admin, null, null);
        var (_, editor) = await ApiKeys.CreateAsync(db.DataSource, "éditeur registre", Contributor.AtdEditor, Atd, null);
        var atdCsv = await File.ReadAllBytesAsync(Path.Combine(TestEnvironment.DataDir, "atd", "atd.csv"));
        var accCsv = await File.ReadAllBytesAsync(Path.Combine(TestEnvironment.DataDir, "atd", "accompanied-communes.csv"));
        MultipartFormDataContent Form(byte[] atd) => new()
        {
            { new ByteArrayContent(atd), "atd", "atd.csv" },
            { new ByteArrayContent(accCsv), "accompanied", "accompanied-communes.csv" },
        };
        var before = await DataAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(editor).PostAsync("/api/atd/registry", Form(atdCsv))).StatusCode);

        var dry = await Client(admin).PostAsync("/api/atd/registry", Form(atdCsv));
        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        var registryRows = RawOdf.Atd.Count;
        Assert.Contains($"{registryRows} ATD ({registryRows} avant)", (await dry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("report").GetString());

        // The header and the first ten ATD only: most ATD would go, refused even when asked for real.
        var truncated = Encoding.UTF8.GetBytes(string.Join('\n', Encoding.UTF8.GetString(atdCsv).Split('\n').Take(11)) + "\n");
        var refused = await Client(admin).PostAsync("/api/atd/registry?dryRun=false", Form(truncated));
        var p = await ProblemAsync(refused, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("retirerait", p.GetProperty("detail").GetString());
        Assert.Equal(before, await DataAsync());
        Assert.Equal(["atd-registry.dry-run", "atd-registry.import"],
            (await db.RowsAsync("select action from audit_entry where actor = 'registre' order by id")).Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task The_audit_log_cannot_be_altered_by_the_apps_role_nor_by_its_owner()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using (var seed = new NpgsqlCommand("insert into audit_entry (actor, action, status, outcome) values ('test', 'observation.create', 401, 'refused')", conn))
            await seed.ExecuteNonQueryAsync();
        foreach (var (role, sql) in new[]
        {
            ("observatoire_writer", "update audit_entry set reason = 'effacé'"),
            ("observatoire_writer", "delete from audit_entry"),
            ("observatoire_writer", "truncate audit_entry"),
            ("postgres", "update audit_entry set reason = 'effacé'"),
            ("postgres", "delete from audit_entry"),
            ("postgres", "truncate audit_entry"),
        })
        {
            await using var tx = await conn.BeginTransactionAsync();
            await using (var set = new NpgsqlCommand($"set local role {role}", conn, tx)) await set.ExecuteNonQueryAsync();
            var e = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var cmd = new NpgsqlCommand(sql, conn, tx);
                await cmd.ExecuteNonQueryAsync();
            });
            Assert.Equal("42501", e.SqlState);
            await tx.RollbackAsync();
        }
        Assert.True(await db.ScalarAsync<long>("select count(*) from audit_entry") >= 1);
    }

    [Fact]
    public async Task A_retried_post_with_the_same_idempotency_key_writes_once_and_answers_the_same()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "retry", Contributor.AtdEditor, Atd, null);
        var body = JsonSerializer.Serialize(new { collectivite = "COM-35024", observedOn = Today, datasetsLocal = 2, note = "relance" });
        var ids = new List<long>();
        foreach (var _ in Enumerable.Range(0, 3))
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/observations") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            req.Headers.Add("Idempotency-Key", "betton-1");
            var r = await Client(key).SendAsync(req);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            ids.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
        }
        Assert.Single(ids.Distinct());
        Assert.Equal(1L, await db.ScalarAsync<long>("select count(*) from observation where note = 'relance'"));
        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/observations") { Content = Json(new { collectivite = "COM-35024", observedOn = Today, datasetsLocal = 9 }) };
        other.Headers.Add("Idempotency-Key", "betton-1");
        await ProblemAsync(await Client(key).SendAsync(other), HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task A_correction_supersedes_without_erasing_and_cannot_be_applied_twice()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "correcteur", Contributor.AtdEditor, Atd, null);
        var client = Client(key);
        var first = await (await client.PostAsync("/api/observations", Json(new { collectivite = "COM-35051", observedOn = Today, datasetsLocal = 100 })))
            .Content.ReadFromJsonAsync<JsonElement>();
        var id = first.GetProperty("id").GetInt64();
        var fix = await client.PostAsync("/api/observations", Json(new { collectivite = "COM-35051", observedOn = Today, datasetsLocal = 10, supersedes = id }));
        Assert.Equal(HttpStatusCode.Created, fix.StatusCode);
        var fixId = (await fix.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        Assert.Equal(fixId, await db.ScalarAsync<long>("select superseded_by from observation where id = $1", id));
        Assert.Equal(100, await db.ScalarAsync<int>("select datasets_local from observation where id = $1", id));
        // The status counts the correction only; the card keeps both rows.
        Assert.Equal(10, await db.ScalarAsync<int>("select dataset_count from collectivite where id = 'COM-35051'"));
        var card = await client.GetFromJsonAsync<JsonElement>("/api/collectivites/COM-35051");
        var history = card.GetProperty("history").EnumerateArray().ToList();
        Assert.Contains(history, h => h.GetProperty("id").GetInt64() == id && h.GetProperty("supersededBy").GetInt64() == fixId);
        Assert.Equal("supersede", (await db.ScalarAsync<string>("select action from audit_entry where observation_id = $1", fixId)).Split('.')[1]);

        var again = await client.PostAsync("/api/observations", Json(new { collectivite = "COM-35051", observedOn = Today, datasetsLocal = 11, supersedes = id }));
        Assert.Contains(fixId.ToString(), (await ProblemAsync(again, HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        await db.AssertStatusRunsAreCurrentAsync();
    }

    [Fact]
    public async Task Two_editors_writing_the_same_collectivite_at_once_both_succeed_and_the_status_holds_both()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => ApiKeys.CreateAsync(db.DataSource, $"éditeur {i}", Contributor.AtdEditor, Atd, null)));
        var days = new[] { QueryParameters.Today.AddDays(-2), QueryParameters.Today.AddDays(-1) };
        var answers = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Client(keys[i].Key).PostAsync("/api/observations",
            Json(new { collectivite = "COM-35066", observedOn = days[i].ToString("yyyy-MM-dd"), datasetsLocal = 20 + i }))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        // Whatever the order of the commits, the derived status is the latest day's observation.
        var state = (await db.RowsAsync("select is_open, dataset_count, last_observed_on::text from collectivite where id = 'COM-35066'")).Single();
        Assert.Equal([true, 21, days[1].ToString("yyyy-MM-dd")], state);
        await db.AssertStatusRunsAreCurrentAsync();
    }

    [Fact]
    public async Task An_accepted_write_shows_at_once_in_indicators_card_todo_list_and_tiles()
    {
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "visible", Contributor.AtdEditor, Atd, null);
        var client = Client(key);
        // The largest obliged commune of the perimeter not open yet: the to-do list's first item, computed here.
        var target = await db.ScalarAsync<string>("""
            select c.id from collectivite c join atd_coverage ac on ac.collectivite_id = c.id and ac.atd_id = $1
             where c.is_obliged and not c.is_open and c.type = 'COM' and not exists (select 1 from observation o where o.collectivite_id = c.id and o.source = 'contribution')
             order by c.population desc limit 1
            """, Atd);
        var open0 = (await client.GetFromJsonAsync<JsonElement>("/api/indicators")).GetProperty("open").GetInt32();
        var todo0 = await client.GetFromJsonAsync<JsonElement>($"/api/atd/{Atd}/todo");
        Assert.Contains(todo0.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetString() == target);
        var (x, y) = await TileOfAsync(target);
        var tile0 = await client.GetAsync($"/tiles/communes/10/{x}/{y}.pbf");
        var r = await client.PostAsync("/api/observations", Json(new { collectivite = target, observedOn = Today, datasetsLocal = 5 }));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        Assert.Equal(open0 + 1, (await client.GetFromJsonAsync<JsonElement>("/api/indicators")).GetProperty("open").GetInt32());
        var todo1 = await client.GetFromJsonAsync<JsonElement>($"/api/atd/{Atd}/todo");
        Assert.DoesNotContain(todo1.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetString() == target);
        var card = await client.GetFromJsonAsync<JsonElement>($"/api/collectivites/{target}");
        Assert.True(card.GetProperty("open").GetBoolean());
        var tile1 = await client.GetAsync($"/tiles/communes/10/{x}/{y}.pbf");
        Assert.NotEqual(tile0.Headers.ETag?.Tag, tile1.Headers.ETag?.Tag);
        Assert.NotEqual(await tile0.Content.ReadAsByteArrayAsync(), await tile1.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_token_of_the_configured_openid_provider_writes_within_its_role_and_atd_claims()
    {
        const string issuer = "https://idp.example.test";
        var signing = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        await using var app = TestApp.On(db.ConnectionString, b =>
        {
            b.UseSetting("Authentication:OidcAuthority", issuer);
            b.UseSetting("Authentication:OidcAudience", "observatoire");
            // The provider's discovery document and keys, given here (no network in the tests).
            b.ConfigureTestServices(s => s.PostConfigure<JwtBearerOptions>(ContributorAuth.OidcScheme, o =>
            {
                var discovery = new OpenIdConnectConfiguration { Issuer = issuer };
                discovery.SigningKeys.Add(signing);
                o.Configuration = discovery;
                o.ConfigurationManager = new Microsoft.IdentityModel.Protocols.StaticConfigurationManager<OpenIdConnectConfiguration>(discovery);
            }));
        });
        HttpClient With(SecurityKey key, string? role, string? atd)
        {
            var claims = new Dictionary<string, object> { ["sub"] = "agent-42" };
            if (role is not null) claims[Contributor.RoleClaim] = role;
            if (atd is not null) claims[Contributor.AtdClaim] = atd;
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer, Audience = "observatoire", Expires = DateTime.UtcNow.AddMinutes(5), Claims = claims,
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
            });
            var c = app.CreateClient();
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return c;
        }
        var inside = Json(new { collectivite = "COM-35278", observedOn = Today, datasetsLocal = 1 });
        var r = await With(signing, Contributor.AtdEditor, Atd).PostAsync("/api/observations", inside);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("agent-42", (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recordedBy").GetString());
        var outside = Json(new { collectivite = "COM-75056", observedOn = Today });
        Assert.Equal(HttpStatusCode.Forbidden, (await With(signing, Contributor.AtdEditor, Atd).PostAsync("/api/observations", outside)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await With(signing, null, null).PostAsync("/api/observations", outside)).StatusCode);
        var forged = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        Assert.Equal(HttpStatusCode.Unauthorized, (await With(forged, Contributor.Admin, null).PostAsync("/api/observations", outside)).StatusCode);
        // API keys keep working next to the provider.
        var (_, key) = await ApiKeys.CreateAsync(db.DataSource, "à côté", Contributor.Admin, null, null);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/contributor")).StatusCode);
    }

    async Task<(int X, int Y)> TileOfAsync(string id)
    {
        var p = (await db.RowsAsync("select ST_X(label_point), ST_Y(label_point) from collectivite_geometry where collectivite_id = $1", id)).Single();
        return SlippyTiles.TileOf((double)p[0]!, (double)p[1]!, 10);
    }
}
