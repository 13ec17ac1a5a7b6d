using Npgsql;
using Portcullis.Core.TlsRpt;

namespace Portcullis.TlsRpt;

/// <summary>
/// Received TLS-RPT reports in PostgreSQL (<c>tlsrpt.store: postgres</c>), so several receiving
/// servers behind one rua=https:// name, or a mailbox importer elsewhere, share one view. Table
/// <c>PREFIX_tlsrpt_reports</c>, created on first use; a repeated report-id is not stored again.
/// </summary>
public sealed class PostgresReportStore : IReportStore
{
    private readonly NpgsqlDataSource _db;
    private readonly string _table;

    public PostgresReportStore(string connectionString, string prefix)
    {
        _db = NpgsqlDataSource.Create(connectionString);
        _table = prefix + "_tlsrpt_reports";
        using var cmd = _db.CreateCommand($"""
            CREATE TABLE IF NOT EXISTS {_table} (
                report_id TEXT PRIMARY KEY,
                organization TEXT NOT NULL,
                start_utc BIGINT NOT NULL,
                end_utc BIGINT NOT NULL,
                received_utc BIGINT NOT NULL,
                json TEXT NOT NULL)
            """);
        cmd.ExecuteNonQuery();
    }

    public bool Add(TlsRptReport report, string json, DateTimeOffset received)
    {
        using var cmd = _db.CreateCommand($"INSERT INTO {_table} VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO NOTHING");
        cmd.Parameters.AddWithValue(report.ReportId);
        cmd.Parameters.AddWithValue(report.OrganizationName);
        cmd.Parameters.AddWithValue(report.Start.ToUnixTimeSeconds());
        cmd.Parameters.AddWithValue(report.End.ToUnixTimeSeconds());
        cmd.Parameters.AddWithValue(received.ToUnixTimeSeconds());
        cmd.Parameters.AddWithValue(json);
        return cmd.ExecuteNonQuery() == 1;
    }

    public IReadOnlyList<TlsRptReport> Since(DateTimeOffset since)
    {
        using var cmd = _db.CreateCommand($"SELECT json FROM {_table} WHERE end_utc >= $1 ORDER BY start_utc");
        cmd.Parameters.AddWithValue(since.ToUnixTimeSeconds());
        using var r = cmd.ExecuteReader();
        var list = new List<TlsRptReport>();
        while (r.Read())
        {
            if (TlsRptParser.Parse(System.Text.Encoding.UTF8.GetBytes(r.GetString(0))).Report is { } report)
                list.Add(report);
        }
        return list;
    }

    public void Dispose() => _db.Dispose();
}
