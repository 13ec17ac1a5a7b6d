using Portcullis.Core.TlsRpt;

namespace Portcullis.Core.Rollout;

/// <summary>
/// What received TLS-RPT reports (RFC 8460) say about one domain's MTA-STS policy: the <c>sts</c> policy
/// entries for that domain only (a report may carry several policies, DANE and STS side by side).
/// </summary>
public sealed record ReportEvidence(
    int Reports, IReadOnlyList<DateOnly> Days, IReadOnlyList<string> Organizations, long Successful, long Failed,
    IReadOnlyDictionary<string, long> FailuresByType, IReadOnlyDictionary<string, long> FailuresByMx, long OtherPolicySessions)
{
    public long Sessions => Successful + Failed;

    /// <summary>Failure details that name no MX host are counted under this key in <see cref="FailuresByMx"/>.</summary>
    public const string UnnamedMx = "(no receiving-mx-hostname)";

    /// <summary>Failed sessions not itemised in failure-details (the array is optional) count under this type.</summary>
    public const string UnspecifiedType = "(not itemised)";

    public static ReportEvidence Collect(string domain, IEnumerable<TlsRptReport> reports)
    {
        string d = Normalize(domain);
        int count = 0;
        var days = new SortedSet<DateOnly>();
        var orgs = new SortedSet<string>(StringComparer.Ordinal);
        long ok = 0, failed = 0, other = 0;
        var byType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var byMx = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var report in reports)
        {
            bool counted = false;
            foreach (var p in report.Policies)
            {
                if (Normalize(p.PolicyDomain) != d)
                    continue;
                if (p.PolicyType != "sts")
                {
                    other = Sat(other, Sat(p.Successful, p.Failed));
                    continue;
                }
                counted = true;
                ok = Sat(ok, p.Successful);
                failed = Sat(failed, p.Failed);
                long itemised = 0;
                foreach (var f in p.Failures)
                {
                    itemised = Sat(itemised, f.FailedSessions);
                    Add(byType, f.ResultType, f.FailedSessions);
                    Add(byMx, f.ReceivingMxHostname is { Length: > 0 } mx ? Normalize(mx) : UnnamedMx, f.FailedSessions);
                }
                if (p.Failed > itemised)
                {
                    Add(byType, UnspecifiedType, p.Failed - itemised);
                    Add(byMx, UnnamedMx, p.Failed - itemised);
                }
            }
            if (!counted)
                continue;
            count++;
            days.Add(DateOnly.FromDateTime(report.Start.UtcDateTime));
            orgs.Add(report.OrganizationName);
        }
        return new(count, [.. days], [.. orgs], ok, failed, byType, byMx, other);
    }

    private static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    private static void Add(SortedDictionary<string, long> into, string key, long n) => into[key] = Sat(into.GetValueOrDefault(key), n);

    /// <summary>Counts come from the network: saturate rather than overflow.</summary>
    private static long Sat(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
