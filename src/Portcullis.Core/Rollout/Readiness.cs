using System.Globalization;

namespace Portcullis.Core.Rollout;

/// <summary>publish.readiness as values.</summary>
public sealed record ReadinessThresholds(int MinDays, int MinOrganizations, long MinSessions, double MaxFailurePercent, int MxCertificateDays);

/// <summary>One MX host as the live check saw it: covered by the policy's mx patterns, and its certificate.</summary>
/// <param name="CertificateNotAfter">Expiry of the certificate it served on STARTTLS; null when none was obtained.</param>
/// <param name="Problem">Why no valid certificate was obtained (no STARTTLS, untrusted, wrong name, unreachable); null when fine.</param>
public sealed record MxEvidence(string Host, bool Covered, DateTimeOffset? CertificateNotAfter, string? Problem);

/// <summary>One criterion of the verdict and the evidence it rests on.</summary>
public sealed record EvidenceItem(string Criterion, bool Ok, string Detail);

public sealed record ReadinessVerdict(bool Safe, IReadOnlyList<EvidenceItem> Items)
{
    public IEnumerable<EvidenceItem> Missing => Items.Where(i => !i.Ok);
}

/// <summary>
/// Whether switching a domain from <c>testing</c> to <c>enforce</c> is safe: enough reports (days, distinct
/// reporting organisations, sessions), failure rates per failure type and per MX host under the limit, every live
/// MX host covered by the mx patterns and serving a certificate valid for long enough. Pure: the caller gathers
/// the evidence (reports from the store, MX hosts and certificates from the live check).
/// </summary>
public static class Readiness
{
    public static ReadinessVerdict Judge(ReportEvidence r, IReadOnlyList<MxEvidence>? mx, string? mxError,
        ReadinessThresholds t, DateTimeOffset now)
    {
        var items = new List<EvidenceItem>();
        void Add(string criterion, bool ok, string detail) => items.Add(new(criterion, ok, detail));
        string span = r.Days.Count == 0 ? "none" : $"{r.Days[0]:yyyy-MM-dd} to {r.Days[^1]:yyyy-MM-dd}";
        Add("days covered", r.Days.Count >= t.MinDays, $"{r.Days.Count} day(s) with reports ({span}); need {t.MinDays}");
        Add("reporting organisations", r.Organizations.Count >= t.MinOrganizations,
            $"{r.Organizations.Count} ({string.Join(", ", r.Organizations.Take(10))}{(r.Organizations.Count > 10 ? ", …" : "")}); need {t.MinOrganizations}");
        Add("sessions", r.Sessions >= t.MinSessions && r.Sessions > 0,
            $"{r.Sessions} in {r.Reports} report(s) ({r.Successful} successful, {r.Failed} failed); need {Math.Max(1, t.MinSessions)}");
        foreach (var (type, n) in r.FailuresByType)
            Add($"failure rate {type}", Percent(n, r.Sessions) <= t.MaxFailurePercent, Rate(n, r.Sessions, t));
        foreach (var (host, n) in r.FailuresByMx)
            Add($"failure rate at {host}", Percent(n, r.Sessions) <= t.MaxFailurePercent, Rate(n, r.Sessions, t));
        if (r.Failed == 0 && r.Sessions > 0)
            Add("failure rate", true, "no failed sessions reported");
        if (mx is null || mx.Count == 0)
        {
            Add("MX hosts", false, mxError ?? "no MX host found: nothing to enforce TLS for");
            return new(false, items);
        }
        foreach (var m in mx)
        {
            Add($"{m.Host} covered", m.Covered, m.Covered ? "matches an mx pattern of the policy"
                : "no mx pattern matches it: enforcing senders would refuse to deliver there");
            if (m.Problem is not null || m.CertificateNotAfter is not { } notAfter)
            {
                Add($"{m.Host} certificate", false, m.Problem ?? "no certificate obtained");
                continue;
            }
            double days = (notAfter - now).TotalDays;
            Add($"{m.Host} certificate", days >= t.MxCertificateDays,
                $"valid until {notAfter.UtcDateTime:yyyy-MM-dd HH:mm}Z ({Math.Floor(days).ToString(CultureInfo.InvariantCulture)} days); need {t.MxCertificateDays}");
        }
        return new(items.All(i => i.Ok), items);
    }

    public static double Percent(long n, long of) => of <= 0 ? (n > 0 ? 100 : 0) : 100.0 * n / of;

    private static string Rate(long n, long sessions, ReadinessThresholds t) =>
        $"{Percent(n, sessions).ToString("0.###", CultureInfo.InvariantCulture)}% ({n} of {sessions} sessions); at most {t.MaxFailurePercent.ToString("0.###", CultureInfo.InvariantCulture)}%";
}
