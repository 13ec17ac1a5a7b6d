using System.Text.Json;
using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Storage.Sessions;

/// <summary>Session counts per day, recipient domain and policy: recorded by the collector, read to build reports, pruned.</summary>
public sealed partial class SessionStore
{
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
}
