using System.Data.Common;
using Npgsql;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>
/// Received TLS-RPT reports in PostgreSQL (<c>tlsrpt.store: postgres</c>), so several receiving
/// servers behind one rua=https:// name, or a mailbox importer elsewhere, share one view. Tables
/// <c>PREFIX_tlsrpt_received</c> and the summary tables beside it, created on first use (the connection policy of
/// <see cref="PostgresConnections"/>: seconds, not Npgsql's defaults); a repeated
/// report-id is not stored again. The quota counts the size of these tables.
/// </summary>
public sealed class PostgresReportStore : SqlReportStore
{
    private static readonly string[] Tables = ["received", "days", "daily", "daily_failures", "daily_reporters"];
    private readonly NpgsqlDataSource _db;
    private readonly string _prefix;

    public PostgresReportStore(string connectionString, string prefix, long quotaBytes) : base(prefix + "_tlsrpt_", quotaBytes)
    {
        _db = PostgresConnections.Create(connectionString);
        _prefix = prefix;
    }

    protected override int StatementTimeoutSeconds => PostgresConnections.CommandTimeoutSeconds;

    protected override DbConnection Open() => _db.OpenConnection();

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await _db.OpenConnectionAsync(ct);

    protected override void Return(DbConnection db, Exception? failure) => db.Dispose();

    // Reports of the earlier one-table layout (PREFIX_tlsrpt_reports, JSON text) move over once.
    protected override void MoveLegacy(DbConnection db)
    {
        string legacy = _prefix + "_tlsrpt_reports";
        if (Scalar(db, null, "SELECT to_regclass(@t)::text", ("t", legacy)) is not string)
            return;
        using var reader = _db.OpenConnection();
        ImportLegacy(db, Stream(reader, $"SELECT json, received_utc FROM {legacy} ORDER BY start_utc", r => (r.GetString(0), r.GetInt64(1))));
        Exec(db, null, $"ALTER TABLE {legacy} RENAME TO {legacy}_moved");
    }

    protected override void InsertReceived(DbConnection db, DbTransaction tx, TlsRptReport report, ReadOnlyMemory<byte> raw,
        DateTimeOffset received)
    {
        using var cmd = Command(db, tx, $"INSERT INTO {T("received")} VALUES (@id, @org, @s, @e, @r, @raw)", ("id", report.ReportId),
            ("org", report.OrganizationName), ("s", report.Start.ToUnixTimeSeconds()), ("e", report.End.ToUnixTimeSeconds()),
            ("r", received.ToUnixTimeSeconds()));
        cmd.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("raw", NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = raw });
        cmd.ExecuteNonQuery();
    }

    protected override string Saturated(string a, string b, string cap) => $"LEAST({a}::numeric + {b}, {cap})::bigint";
    protected override string Sum(string column) => $"SUM({column})"; // numeric: no overflow
    protected override string BlobType => "BYTEA";

    protected override long UsedBytes(DbConnection db, DbTransaction tx) =>
        Convert.ToInt64(Scalar(db, tx, "SELECT " + string.Join(" + ", Tables.Select(t => $"pg_total_relation_size('{T(t)}')"))),
            System.Globalization.CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        _db.Dispose();
        base.Dispose();
    }
}
