using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt;

namespace Portcullis.TlsRpt;

/// <summary>Received TLS-RPT reports, deduplicated by report-id (senders retry).</summary>
public interface IReportStore : IDisposable
{
    /// <returns>False when a report with this id was already stored.</returns>
    bool Add(TlsRptReport report, string json, DateTimeOffset received);

    /// <summary>Reports whose date range ends at or after <paramref name="since"/>, oldest first.</summary>
    IReadOnlyList<TlsRptReport> Since(DateTimeOffset since);
}

/// <summary>Received TLS-RPT reports in SQLite (the default).</summary>
public sealed class ReportStore : IReportStore
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public ReportStore(string path)
    {
        Configuration.DataFiles.PrepareDatabase(path, "tlsrpt.database");
        _db = new SqliteConnection($"Data Source={path};Pooling=False");
        try
        {
            _db.Open();
            CreateSchema();
        }
        catch (SqliteException ex)
        {
            _db.Dispose();
            throw Configuration.DataFiles.OpenFailed("tlsrpt.database", path, ex);
        }
    }

    private void CreateSchema()
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS tlsrpt_reports (
                report_id TEXT PRIMARY KEY,
                organization TEXT NOT NULL,
                start_utc INTEGER NOT NULL,
                end_utc INTEGER NOT NULL,
                received_utc INTEGER NOT NULL,
                json TEXT NOT NULL)
            """;
        cmd.ExecuteNonQuery();
    }

    public bool Add(TlsRptReport report, string json, DateTimeOffset received)
    {
        lock (_lock)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "INSERT OR IGNORE INTO tlsrpt_reports VALUES ($id, $org, $s, $e, $r, $j)";
            cmd.Parameters.AddWithValue("$id", report.ReportId);
            cmd.Parameters.AddWithValue("$org", report.OrganizationName);
            cmd.Parameters.AddWithValue("$s", report.Start.ToUnixTimeSeconds());
            cmd.Parameters.AddWithValue("$e", report.End.ToUnixTimeSeconds());
            cmd.Parameters.AddWithValue("$r", received.ToUnixTimeSeconds());
            cmd.Parameters.AddWithValue("$j", json);
            return cmd.ExecuteNonQuery() == 1;
        }
    }

    public IReadOnlyList<TlsRptReport> Since(DateTimeOffset since)
    {
        lock (_lock)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT json FROM tlsrpt_reports WHERE end_utc >= $s ORDER BY start_utc";
            cmd.Parameters.AddWithValue("$s", since.ToUnixTimeSeconds());
            var list = new List<TlsRptReport>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                if (TlsRptParser.Parse(System.Text.Encoding.UTF8.GetBytes(r.GetString(0))).Report is { } report)
                    list.Add(report);
            }
            return list;
        }
    }

    public void Dispose() => _db.Dispose();
}
