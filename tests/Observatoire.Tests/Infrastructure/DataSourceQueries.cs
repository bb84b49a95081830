using Npgsql;

namespace Observatoire.Tests.Infrastructure;

/// <summary>Plain SQL reads for the tests' independent expectations.</summary>
public static class DataSourceQueries
{
    public static async Task<List<object?[]>> RowsAsync(this NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.AddWithValue(a);
        await using var rd = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await rd.ReadAsync())
        {
            var row = new object?[rd.FieldCount];
            for (var i = 0; i < rd.FieldCount; i++) row[i] = rd.IsDBNull(i) ? null : rd.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }
}
