namespace Portcullis.Core.TlsRpt;

/// <summary>One line of <c>tlsrpt summary</c>: a policy domain and type on one day.</summary>
public sealed record SummaryRow(string PolicyDomain, string PolicyType, DateOnly Day, long Successful, long Failed,
    IReadOnlyList<(string ResultType, long Sessions, IReadOnlyList<string> SendingIps)> Failures, IReadOnlyList<string> Reporters);

public static class TlsRptSummary
{
    public static IReadOnlyList<SummaryRow> Build(IEnumerable<TlsRptReport> reports, string? domain)
    {
        var rows = reports
            .SelectMany(r => r.Policies.Select(p => (Report: r, Policy: p)))
            .Where(x => domain is null || x.Policy.PolicyDomain == domain)
            .GroupBy(x => (x.Policy.PolicyDomain, x.Policy.PolicyType, Day: DateOnly.FromDateTime(x.Report.Start.UtcDateTime)))
            .Select(g => new SummaryRow(g.Key.PolicyDomain, g.Key.PolicyType, g.Key.Day,
                g.Sum(x => x.Policy.Successful), g.Sum(x => x.Policy.Failed),
                [.. g.SelectMany(x => x.Policy.Failures).GroupBy(f => f.ResultType)
                    .Select(f => (f.Key, f.Sum(x => x.FailedSessions),
                        (IReadOnlyList<string>)[.. f.Select(x => x.SendingMtaIp).OfType<string>().Distinct().Order(StringComparer.Ordinal)]))
                    .OrderByDescending(f => f.Item2)],
                [.. g.Select(x => x.Report.OrganizationName).Distinct().Order(StringComparer.Ordinal)]))
            .OrderBy(r => r.PolicyDomain, StringComparer.Ordinal).ThenBy(r => r.Day).ThenBy(r => r.PolicyType, StringComparer.Ordinal)
            .ToList();
        return rows;
    }
}
