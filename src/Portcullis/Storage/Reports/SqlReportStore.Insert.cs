using System.Data.Common;
using System.Globalization;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>Storing one report: its gzip in <c>received</c>, its counts added to the summary tables, in one transaction.</summary>
public abstract partial class SqlReportStore
{
    public StoreResult Add(TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received) => Use(db => Add(db, report, raw, received, _quotaBytes));

    /// <summary>Inserts the <c>received</c> row. Stores override it to write <paramref name="raw"/> without copying it
    /// into a new array: a report above 85 KB would be a large object, and a flood of them blocking full GCs.</summary>
    protected virtual void InsertReceived(DbConnection db, DbTransaction tx, TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received) =>
        Exec(db, tx, $"INSERT INTO {T("received")} VALUES (@id, @org, @s, @e, @r, @raw)", ("id", report.ReportId),
            ("org", report.OrganizationName), ("s", report.Start.ToUnixTimeSeconds()), ("e", report.End.ToUnixTimeSeconds()),
            ("r", received.ToUnixTimeSeconds()), ("raw", raw.ToArray()));

    protected StoreResult Add(DbConnection db, TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received, long quota)
    {
        using var tx = db.BeginTransaction();
        if (Scalar(db, tx, $"SELECT 1 FROM {T("received")} WHERE report_id = @id", ("id", report.ReportId)) is not null)
            return StoreResult.Duplicate;
        if (UsedBytes(db, tx) + raw.Length > quota)
            return StoreResult.OverQuota;
        InsertReceived(db, tx, report, raw, received);
        var agg = TlsRptAggregate.From(report);
        string day = agg.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Exec(db, tx, $"""
            INSERT INTO {T("days")} VALUES (@d, @s, @f) ON CONFLICT (day) DO UPDATE SET
                successful = {Saturated(T("days") + ".successful", "excluded.successful", Cap)},
                failed = {Saturated(T("days") + ".failed", "excluded.failed", Cap)}
            """, ("d", day), ("s", agg.Successful), ("f", agg.Failed));
        using (var daily = Command(db, tx, $"""
            INSERT INTO {T("daily")} VALUES (@d, @pd, @pt, @s, @f) ON CONFLICT (day, policy_domain, policy_type) DO UPDATE SET
                successful = {Saturated(T("daily") + ".successful", "excluded.successful", Cap)},
                failed = {Saturated(T("daily") + ".failed", "excluded.failed", Cap)}
            """, ("d", day), ("pd", ""), ("pt", ""), ("s", 0L), ("f", 0L)))
        using (var reporter = Command(db, tx, $"""
            INSERT INTO {T("daily_reporters")} VALUES (@d, @pd, @pt, @o, 1) ON CONFLICT (day, policy_domain, policy_type, organization)
                DO UPDATE SET reports = {T("daily_reporters")}.reports + 1
            """, ("d", day), ("pd", ""), ("pt", ""), ("o", agg.Reporter)))
        {
            foreach (var p in agg.Policies)
            {
                Run(daily, p.PolicyDomain, p.PolicyType, p.Successful, p.Failed);
                Run(reporter, p.PolicyDomain, p.PolicyType);
            }
        }
        using (var failure = Command(db, tx, $"""
            INSERT INTO {T("daily_failures")} VALUES (@d, @pd, @pt, @rt, @ip, @n)
                ON CONFLICT (day, policy_domain, policy_type, result_type, sending_ip) DO UPDATE SET
                sessions = {Saturated(T("daily_failures") + ".sessions", "excluded.sessions", Cap)}
            """, ("d", day), ("pd", ""), ("pt", ""), ("rt", ""), ("ip", ""), ("n", 0L)))
        {
            foreach (var f in agg.Failures)
                Run(failure, f.PolicyDomain, f.PolicyType, f.ResultType, f.SendingIp, f.Sessions);
        }
        tx.Commit();
        return StoreResult.Stored;
    }

    /// <summary>Re-runs a prepared upsert with new values for its parameters after the first (the day).</summary>
    private static void Run(DbCommand cmd, params object[] values)
    {
        for (int i = 0; i < values.Length; i++)
            cmd.Parameters[i + 1].Value = values[i];
        cmd.ExecuteNonQuery();
    }
}
