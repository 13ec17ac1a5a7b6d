using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Storage.Sessions;

/// <summary>Generated reports and their deliveries: added, leased, attempted, listed.</summary>
public sealed partial class SessionStore
{
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

    /// <summary>Rows of versions before the submitter column: the id ends in @SUBMITTER.</summary>
    private static string SubmitterOf(string reportId) => reportId[(reportId.LastIndexOf('@') + 1)..];

    private static ReportDestination Destination(string s) =>
        s.StartsWith("mailto:", StringComparison.Ordinal) ? new(DestinationKind.Mail, s[7..]) : new(DestinationKind.Https, s);
}
