namespace Portcullis.Core.TlsRpt;

/// <summary>
/// What one report adds to the summary rows (written at insert time, so summaries never re-read
/// reports): sessions per day, policy domain and type; failed sessions per result type and sending
/// MTA IP; the reporting organisation. A report's day is the UTC day its date range starts.
/// Counts are bounded by the parser (<see cref="TlsRptParser.MaxSessionCount"/>), so these sums fit.
/// </summary>
public sealed record TlsRptAggregate(
    DateOnly Day,
    IReadOnlyList<(string PolicyDomain, string PolicyType, long Successful, long Failed)> Policies,
    IReadOnlyList<(string PolicyDomain, string PolicyType, string ResultType, string SendingIp, long Sessions)> Failures,
    string Reporter)
{
    public long Successful => Policies.Sum(p => p.Successful);
    public long Failed => Policies.Sum(p => p.Failed);

    public static TlsRptAggregate From(TlsRptReport report) => new(
        DateOnly.FromDateTime(report.Start.UtcDateTime),
        [.. report.Policies.GroupBy(p => (p.PolicyDomain, p.PolicyType))
            .Select(g => (g.Key.PolicyDomain, g.Key.PolicyType, g.Sum(p => p.Successful), g.Sum(p => p.Failed)))],
        [.. report.Policies.SelectMany(p => p.Failures.Select(f => (p.PolicyDomain, p.PolicyType, f.ResultType, Ip: f.SendingMtaIp ?? "", f.FailedSessions)))
            .GroupBy(f => (f.PolicyDomain, f.PolicyType, f.ResultType, f.Ip))
            .Select(g => (g.Key.PolicyDomain, g.Key.PolicyType, g.Key.ResultType, g.Key.Ip, g.Sum(f => f.FailedSessions)))],
        report.OrganizationName);
}

/// <summary>Sessions of all policy domains on one day (the page's chart).</summary>
public sealed record SummaryDay(DateOnly Day, long Successful, long Failed);

/// <summary>A bounded summary: at most the rows asked for, <see cref="Truncated"/> when there were more.</summary>
public sealed record SummaryPage(IReadOnlyList<SummaryRow> Rows, IReadOnlyList<SummaryDay> Days, bool Truncated);
