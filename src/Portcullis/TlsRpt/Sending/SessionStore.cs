using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.TlsRpt.Sending;

/// <summary>A report delivery waiting for its next attempt.</summary>
/// <param name="Submitter">The submitter the report was generated with, even if the configuration changed since.</param>
public sealed record PendingDelivery(string ReportId, string Domain, DateOnly Day, ReportDestination Destination, int Attempts,
    DateTimeOffset? FirstAttempt, string Json, string Submitter);

/// <summary>Outcome of one delivery row, for `tlsrpt sent` and tests.</summary>
public sealed record DeliveryRow(string ReportId, string Domain, DateOnly Day, long Successful, long Failed, string Destination, string Status,
    int Attempts, string? LastError);

/// <summary>
/// The sending side's state in SQLite (the TLS-RPT database): per day, recipient domain and policy,
/// counts of successful and failed sessions and of each failure detail; then the generated reports
/// and their deliveries. Counting is done by the database (UPSERT), so a restart loses nothing that
/// was committed and several collectors could share the file.
/// </summary>
public sealed class SessionStore : IDisposable, IAsyncDisposable
{
    private readonly SqliteConnection _db;
    private readonly Storage.SqliteGate _gate; // one statement sequence at a time, waited for asynchronously

    public SessionStore(string path)
    {
        Configuration.DataFiles.PrepareDatabase(path, "tlsrpt.database");
        _db = new SqliteConnection($"Data Source={path};Pooling=False");
        try
        {
            _db.Open();
            CreateSchema();
            _gate = new Storage.SqliteGate(_db);
        }
        catch (SqliteException ex)
        {
            _db.Dispose();
            throw Configuration.DataFiles.OpenFailed("tlsrpt.database", path, ex);
        }
    }

    private void CreateSchema()
    {
        Exec("""
            PRAGMA journal_mode=WAL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS tlsrpt_out_policies (
                day TEXT NOT NULL, domain TEXT NOT NULL, policy_key TEXT NOT NULL, policy_json TEXT NOT NULL,
                successful INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day, domain, policy_key));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_failures (
                day TEXT NOT NULL, domain TEXT NOT NULL, policy_key TEXT NOT NULL, failure_key TEXT NOT NULL,
                failure_json TEXT NOT NULL, sessions INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day, domain, policy_key, failure_key));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_records (
                day TEXT NOT NULL, domain TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (day, domain));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_reports (
                day TEXT NOT NULL, domain TEXT NOT NULL, report_id TEXT NOT NULL UNIQUE, json TEXT NOT NULL,
                created_utc INTEGER NOT NULL, note TEXT, successful INTEGER NOT NULL, failed INTEGER NOT NULL,
                PRIMARY KEY (day, domain));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_deliveries (
                report_id TEXT NOT NULL, destination TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                first_attempt_utc INTEGER, next_attempt_utc INTEGER NOT NULL, last_error TEXT, done_utc INTEGER,
                PRIMARY KEY (report_id, destination));
            """);
        // Added later, by ALTER so files of earlier versions get it too; their rows have NULL (see DueDeliveries).
        if (Query(null, "SELECT 1 FROM pragma_table_info('tlsrpt_out_reports') WHERE name = 'submitter'", r => 1).Count == 0)
            Exec("ALTER TABLE tlsrpt_out_reports ADD COLUMN submitter TEXT");
    }

    /// <summary>Counts sessions in one transaction (the collector batches datagrams).</summary>
    public Task RecordAsync(IReadOnlyList<(DateOnly Day, SessionEvent Event)> batch, CancellationToken ct)
    {
        return _gate.Run(_ =>
        {
            using var tx = _db.BeginTransaction();
            RecordAll(tx, batch);
            tx.Commit();
        }, ct);
    }

    private void RecordAll(SqliteTransaction tx, IReadOnlyList<(DateOnly Day, SessionEvent Event)> batch)
    {
        foreach (var (day, e) in batch)
        {
            string d = Day(day);
            if (e.PolicyRecord.Length > 0)
            {
                Exec(tx, "INSERT INTO tlsrpt_out_records VALUES ($d, $dom, $r) ON CONFLICT DO UPDATE SET record = excluded.record",
                    ("$d", d), ("$dom", e.Domain), ("$r", e.PolicyRecord));
            }
            foreach (var p in e.Policies)
            {
                Exec(tx, """
                    INSERT INTO tlsrpt_out_policies VALUES ($d, $dom, $k, $j, $ok, $fail)
                    ON CONFLICT DO UPDATE SET successful = successful + excluded.successful, failed = failed + excluded.failed
                    """, ("$d", d), ("$dom", e.Domain), ("$k", p.Key), ("$j", JsonSerializer.Serialize(p with { Failures = [] }, SessionJsonContext.Default.SessionPolicy)),
                    ("$ok", p.Failed ? 0 : 1), ("$fail", p.Failed ? 1 : 0));
                foreach (var f in p.Failures)
                {
                    Exec(tx, """
                        INSERT INTO tlsrpt_out_failures VALUES ($d, $dom, $k, $fk, $fj, 1)
                        ON CONFLICT DO UPDATE SET sessions = sessions + 1
                        """, ("$d", d), ("$dom", e.Domain), ("$k", p.Key), ("$fk", f.Key), ("$fj", JsonSerializer.Serialize(f, SessionJsonContext.Default.SessionFailure)));
                }
            }
        }
    }

    /// <summary>(day, domain) pairs with sessions before <paramref name="before"/> and no report yet.</summary>
    public Task<IReadOnlyList<(DateOnly Day, string Domain)>> UnreportedAsync(DateOnly before, CancellationToken ct)
    {
        return _gate.Run<IReadOnlyList<(DateOnly Day, string Domain)>>(_ =>
        {
            return Query("""
                SELECT DISTINCT p.day, p.domain FROM tlsrpt_out_policies p
                WHERE p.day < $b AND NOT EXISTS (SELECT 1 FROM tlsrpt_out_reports r WHERE r.day = p.day AND r.domain = p.domain)
                ORDER BY p.day, p.domain
                """, r => (ParseDay(r.GetString(0)), r.GetString(1)), ("$b", Day(before)));
        }, ct);
    }

    public Task<IReadOnlyList<PolicyTally>> TalliesAsync(DateOnly day, string domain, CancellationToken ct)
    {
        return _gate.Run<IReadOnlyList<PolicyTally>>(_ =>
        {
            var failures = Query("SELECT policy_key, failure_json, sessions FROM tlsrpt_out_failures WHERE day = $d AND domain = $dom ORDER BY sessions DESC, failure_key",
                r => (r.GetString(0), JsonSerializer.Deserialize(r.GetString(1), SessionJsonContext.Default.SessionFailure)!, r.GetInt64(2)), ("$d", Day(day)), ("$dom", domain));
            return Query("SELECT policy_key, policy_json, successful, failed FROM tlsrpt_out_policies WHERE day = $d AND domain = $dom ORDER BY policy_key",
                r => new PolicyTally(JsonSerializer.Deserialize(r.GetString(1), SessionJsonContext.Default.SessionPolicy)!, r.GetInt64(2), r.GetInt64(3),
                    [.. failures.Where(f => f.Item1 == r.GetString(0)).Select(f => (f.Item2, f.Item3))]),
                ("$d", Day(day)), ("$dom", domain));
        }, ct);
    }

    public Task<string?> PolicyRecordAsync(DateOnly day, string domain, CancellationToken ct)
    {
        return _gate.Run<string?>(_ =>
        {
            return Query("SELECT record FROM tlsrpt_out_records WHERE day = $d AND domain = $dom", r => r.GetString(0),
                ("$d", Day(day)), ("$dom", domain)).FirstOrDefault();
        }, ct);
    }

    /// <summary>Stores a generated report with one pending delivery per destination, atomically.</summary>
    /// <returns>False when this day's report for the domain already exists.</returns>
    public Task<bool> AddReportAsync(DateOnly day, string domain, string reportId, string submitter, string json,
        IReadOnlyList<ReportDestination> destinations, string? note, (long Successful, long Failed) sessions, DateTimeOffset now, CancellationToken ct)
    {
        return _gate.Run<bool>(_ =>
        {
            using var tx = _db.BeginTransaction();
            return AddReport(tx, day, domain, reportId, submitter, json, destinations, note, sessions, now);
        }, ct);
    }

    private bool AddReport(SqliteTransaction tx, DateOnly day, string domain, string reportId, string submitter, string json,
        IReadOnlyList<ReportDestination> destinations, string? note, (long Successful, long Failed) sessions, DateTimeOffset now)
    {
        int n = Exec(tx, """
            INSERT OR IGNORE INTO tlsrpt_out_reports (day, domain, report_id, json, created_utc, note, successful, failed, submitter)
            VALUES ($d, $dom, $id, $j, $t, $n, $ok, $fail, $sub)
            """, ("$d", Day(day)), ("$dom", domain), ("$id", reportId), ("$j", json), ("$t", now.ToUnixTimeSeconds()), ("$n", note),
            ("$ok", sessions.Successful), ("$fail", sessions.Failed), ("$sub", submitter));
        if (n == 0)
            return false;
        foreach (var dest in destinations)
        {
            Exec(tx, "INSERT OR IGNORE INTO tlsrpt_out_deliveries (report_id, destination, status, next_attempt_utc) VALUES ($id, $dest, 'pending', $t)",
                ("$id", reportId), ("$dest", dest.ToString()), ("$t", now.ToUnixTimeSeconds()));
        }
        tx.Commit();
        return true;
    }

    public Task<IReadOnlyList<PendingDelivery>> DueDeliveriesAsync(DateTimeOffset now, CancellationToken ct)
    {
        return _gate.Run<IReadOnlyList<PendingDelivery>>(_ =>
        {
            return Query("""
                SELECT d.report_id, r.domain, r.day, d.destination, d.attempts, d.first_attempt_utc, r.json, r.submitter
                FROM tlsrpt_out_deliveries d JOIN tlsrpt_out_reports r ON r.report_id = d.report_id
                WHERE d.status = 'pending' AND d.next_attempt_utc <= $now ORDER BY d.next_attempt_utc
                """, r => new PendingDelivery(r.GetString(0), r.GetString(1), ParseDay(r.GetString(2)), Destination(r.GetString(3)),
                    r.GetInt32(4), r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeSeconds(r.GetInt64(5)), r.GetString(6),
                    r.IsDBNull(7) ? SubmitterOf(r.GetString(0)) : r.GetString(7)),
                ("$now", now.ToUnixTimeSeconds()));
        }, ct);
    }

    /// <summary>Leases a due delivery so a concurrent run (daemon and CLI) does not send it twice.</summary>
    public Task<bool> TryClaimAsync(PendingDelivery d, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        return _gate.Run<bool>(_ =>
        {
            return Exec("""
                UPDATE tlsrpt_out_deliveries SET next_attempt_utc = $until
                WHERE report_id = $id AND destination = $dest AND status = 'pending' AND next_attempt_utc <= $now
                """, ("$until", (now + lease).ToUnixTimeSeconds()), ("$id", d.ReportId), ("$dest", d.Destination.ToString()),
                ("$now", now.ToUnixTimeSeconds())) == 1;
        }, ct);
    }

    /// <summary>Records an attempt: delivered, retry at <paramref name="next"/>, or given up (next null).</summary>
    public Task AttemptedAsync(PendingDelivery d, bool delivered, string? error, DateTimeOffset? next, DateTimeOffset now, CancellationToken ct)
    {
        return _gate.Run(_ =>
        {
            Exec("""
                UPDATE tlsrpt_out_deliveries SET attempts = attempts + 1, first_attempt_utc = COALESCE(first_attempt_utc, $now),
                    status = $s, last_error = $e, next_attempt_utc = $next, done_utc = $done
                WHERE report_id = $id AND destination = $dest
                """, ("$now", now.ToUnixTimeSeconds()), ("$s", delivered ? "sent" : next is null ? "failed" : "pending"), ("$e", error),
                ("$next", (next ?? now).ToUnixTimeSeconds()), ("$done", delivered || next is null ? now.ToUnixTimeSeconds() : null),
                ("$id", d.ReportId), ("$dest", d.Destination.ToString()));
        }, ct);
    }

    public Task<IReadOnlyList<DeliveryRow>> DeliveriesAsync(DateOnly since, CancellationToken ct)
    {
        return _gate.Run<IReadOnlyList<DeliveryRow>>(_ =>
        {
            return Query("""
                SELECT r.report_id, r.domain, r.day, r.successful, r.failed, COALESCE(d.destination, '-'), COALESCE(d.status, r.note),
                    COALESCE(d.attempts, 0), d.last_error
                FROM tlsrpt_out_reports r LEFT JOIN tlsrpt_out_deliveries d ON d.report_id = r.report_id
                WHERE r.day >= $s ORDER BY r.day, r.domain, d.destination
                """, r => new DeliveryRow(r.GetString(0), r.GetString(1), ParseDay(r.GetString(2)), r.GetInt64(3), r.GetInt64(4), r.GetString(5),
                    r.IsDBNull(6) ? "?" : r.GetString(6), r.GetInt32(7), r.IsDBNull(8) ? null : r.GetString(8)), ("$s", Day(since)));
        }, ct);
    }

    /// <summary>Forgets counts and reports of days before <paramref name="before"/>.</summary>
    public Task<int> PruneAsync(DateOnly before, CancellationToken ct)
    {
        return _gate.Run<int>(_ =>
        {
            var b = ("$b", (object?)Day(before));
            return Exec("DELETE FROM tlsrpt_out_failures WHERE day < $b", b) + Exec("DELETE FROM tlsrpt_out_policies WHERE day < $b", b)
                + Exec("DELETE FROM tlsrpt_out_records WHERE day < $b", b)
                + Exec("DELETE FROM tlsrpt_out_deliveries WHERE report_id IN (SELECT report_id FROM tlsrpt_out_reports WHERE day < $b)", b)
                + Exec("DELETE FROM tlsrpt_out_reports WHERE day < $b", b);
        }, ct);
    }

    /// <summary>Rows of versions before the submitter column: the id ends in @SUBMITTER.</summary>
    private static string SubmitterOf(string reportId) => reportId[(reportId.LastIndexOf('@') + 1)..];

    private static ReportDestination Destination(string s) =>
        s.StartsWith("mailto:", StringComparison.Ordinal) ? new(DestinationKind.Mail, s[7..]) : new(DestinationKind.Https, s);

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly ParseDay(string s) => DateOnly.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private int Exec(string sql, params (string Name, object? Value)[] args) => Exec(null, sql, args);

    private int Exec(SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(tx, sql, args);
        return cmd.ExecuteNonQuery();
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] args) => Query(null, sql, row, args);

    private List<T> Query<T>(SqliteTransaction? tx, string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(tx, sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
            list.Add(row(r));
        return list;
    }

    // Microsoft.Data.Sqlite wants the open transaction on every command inside it: passed, never ambient.
    private SqliteCommand Command(SqliteTransaction? tx, string sql, (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args)
            cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd;
    }

    public void Dispose() => _db.Dispose();

    public ValueTask DisposeAsync() => _gate.DisposeAsync();
}

/// <summary>Generated at build time (no reflection, AOT-safe), with the web defaults the rows were first written with.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SessionPolicy))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SessionFailure))]
internal sealed partial class SessionJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
