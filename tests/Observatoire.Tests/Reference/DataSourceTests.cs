using Npgsql;
using Observatoire.Data;
using Observatoire.Tests.Infrastructure;

namespace Observatoire.Tests.Reference;

/// <summary>The settings of the application's data source (Data/Database.cs), on real connections.</summary>
public sealed class DataSourceTests(SharedDatabase db) : IClassFixture<SharedDatabase>
{
    // A scan PostgreSQL runs with parallel workers under its default settings.
    const string Query = "explain select sum(st_npoints(geom)) from collectivite_geometry";

    static async Task<string> PlanAsync(NpgsqlConnection conn)
    {
        await using var cmd = new NpgsqlCommand(Query, conn);
        var lines = new List<string>();
        await using var rd = await cmd.ExecuteReaderAsync();
        while (await rd.ReadAsync()) lines.Add(rd.GetString(0));
        return string.Join("\n", lines);
    }

    [Fact]
    public async Task The_applications_connections_plan_without_parallel_workers_unless_its_connection_string_says_otherwise()
    {
        await using (var plain = new NpgsqlConnection(db.ConnectionString))
        {
            await plain.OpenAsync();
            Assert.Contains("Gather", await PlanAsync(plain));
        }
        await using (var app = await db.DataSource.OpenConnectionAsync())
            Assert.DoesNotContain("Gather", await PlanAsync(app));

        await using var own = Database.CreateDataSource(db.ConnectionString + ";Options=-c max_parallel_workers_per_gather=2 -c statement_timeout=5s");
        await using var conn = await own.OpenConnectionAsync();
        Assert.Contains("Gather", await PlanAsync(conn));
        await using var show = new NpgsqlCommand("show statement_timeout", conn);
        Assert.Equal("5s", await show.ExecuteScalarAsync());
    }
}
