using System.Data.Common;
using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>
/// Received TLS-RPT reports in their own SQLite file (the default; <c>tlsrpt.reports_database</c>),
/// apart from the cache and the collector's session counts, so filling it cannot stop either. After a
/// failure (a full disk) the connection is closed and the next report opens a fresh one.
/// </summary>
public sealed class SqliteReportStore : SqlReportStore
{
    private readonly string _path;
    private readonly string? _legacy;
    private SqliteConnection? _db; // kept open between reports; replaced after a failure

    /// <param name="legacy">The TLS-RPT database of earlier versions, whose <c>tlsrpt_reports</c> table is moved here once.</param>
    public SqliteReportStore(string path, long quotaBytes, string? legacy = null) : base("tlsrpt_", quotaBytes)
    {
        (_path, _legacy) = (path, legacy);
        // Created owner-only (it lists the domains that report to you), with a one-line error for a path that cannot
        // hold it. Only when missing: after a full disk the file exists and a retry must not trip over the probe.
        if (!File.Exists(path))
            Configuration.DataFiles.PrepareDatabase(path, "tlsrpt.reports_database");
    }

    protected override DbConnection Open() => _db ??= OpenFile(_path);

    // Microsoft.Data.Sqlite's async open is synchronous anyway; the file is local.
    protected override Task<DbConnection> OpenAsync(CancellationToken ct) => Task.FromResult(Open());

    protected override void Return(DbConnection db, Exception? failure)
    {
        // SQLite may leave the connection unusable (e.g. after SQLITE_FULL): start afresh next time.
        if (failure is SqliteException)
        {
            _db?.Dispose();
            _db = null;
        }
    }

    protected override void MoveLegacy(DbConnection db)
    {
        if (_legacy is not null && File.Exists(_legacy) && Path.GetFullPath(_legacy) != Path.GetFullPath(_path))
            MoveLegacy(db, _legacy);
    }

    private static SqliteConnection OpenFile(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = CommandTimeoutSeconds }.ToString());
        try
        {
            db.Open();
            using var pragmas = db.CreateCommand();
            pragmas.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={CommandTimeoutSeconds * 1000}; PRAGMA cache_size=-2048;";
            pragmas.ExecuteNonQuery();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private void MoveLegacy(DbConnection db, string legacy)
    {
        using var old = new SqliteConnection($"Data Source={legacy};Pooling=False");
        old.Open();
        if (Scalar(old, null, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tlsrpt_reports'") is null)
            return;
        ImportLegacy(db, Stream(old, "SELECT json, received_utc FROM tlsrpt_reports ORDER BY start_utc",
            r => (r.GetString(0), r.GetInt64(1))));
        // Kept under another name, not dropped: DROP TABLE tlsrpt_reports_moved reclaims the space.
        Exec(old, null, "ALTER TABLE tlsrpt_reports RENAME TO tlsrpt_reports_moved");
    }

    // A zeroblob of the right size, then the bytes written into it in place.
    protected override void InsertReceived(DbConnection db, DbTransaction tx, TlsRptReport report, ReadOnlyMemory<byte> raw,
        DateTimeOffset received)
    {
        Exec(db, tx, $"INSERT INTO {T("received")} VALUES (@id, @org, @s, @e, @r, zeroblob(@n))", ("id", report.ReportId),
            ("org", report.OrganizationName), ("s", report.Start.ToUnixTimeSeconds()), ("e", report.End.ToUnixTimeSeconds()),
            ("r", received.ToUnixTimeSeconds()), ("n", (long)raw.Length));
        long rowid = Convert.ToInt64(Scalar(db, tx, "SELECT last_insert_rowid()"), System.Globalization.CultureInfo.InvariantCulture);
        using var blob = new SqliteBlob((SqliteConnection)db, T("received"), "raw", rowid);
        blob.Write(raw.Span);
    }

    protected override string Saturated(string a, string b, string cap) => $"MIN({a} + {b}, {cap})"; // SQLite overflows into REAL
    protected override string Sum(string column) => $"total({column})"; // sum() raises on overflow, total() does not
    protected override string BlobType => "BLOB";

    protected override long UsedBytes(DbConnection db, DbTransaction tx) =>
        Convert.ToInt64(Scalar(db, tx, "SELECT (p.page_count - f.freelist_count) * s.page_size FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s"),
            System.Globalization.CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        _db?.Dispose();
        _db = null;
        base.Dispose();
    }
}
