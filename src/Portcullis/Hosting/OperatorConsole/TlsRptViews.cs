using Portcullis.Core.TlsRpt;
using Portcullis.Storage.Reports;
using Portcullis.Storage.Sessions;
using Portcullis.TlsRpt;
using Portcullis.TlsRpt.Sending;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// Received and sent TLS-RPT data for the console, from the stores <c>tlsrpt summary</c> and <c>tlsrpt sent</c>
/// read: the aggregated summary rows (bounded by <see cref="MaxRows"/>), grouped per policy domain.
/// </summary>
public static class TlsRptViews
{
    public const int MaxRows = 2000, DefaultDays = 30, MaxDays = 400;

    public static async Task<Received> ReceivedAsync(IReportStore store, DateOnly since, CancellationToken ct)
    {
        var page = await store.SummaryAsync(since, null, MaxRows, ct);
        var domains = page.Rows.GroupBy(r => r.PolicyDomain, StringComparer.Ordinal)
            .Select(g => Domain(g.Key, [.. g]))
            .OrderBy(d => d.Domain, StringComparer.Ordinal)
            .ToList();
        return new Received(since, page.Truncated, domains);
    }

    /// <summary>One domain's rows (of all policy types) as a series with a value for every day between its first
    /// and last report day, so a day without reports shows as a gap rather than disappearing.</summary>
    public static ReceivedDomain Domain(string domain, IReadOnlyList<SummaryRow> rows)
    {
        var byDay = rows.GroupBy(r => r.Day).ToDictionary(g => g.Key, g => (Ok: Sum(g.Select(r => r.Successful)), Failed: Sum(g.Select(r => r.Failed))));
        var days = new List<ReceivedDay>();
        if (byDay.Count > 0)
        {
            for (var d = byDay.Keys.Min(); d <= byDay.Keys.Max(); d = d.AddDays(1))
                days.Add(byDay.TryGetValue(d, out var v) ? new ReceivedDay(d, v.Ok, v.Failed) : new ReceivedDay(d, 0, 0));
        }
        var failures = rows.SelectMany(r => r.Failures)
            .GroupBy(f => f.ResultType, StringComparer.Ordinal)
            .Select(g => new FailureType(g.Key, Sum(g.Select(f => f.Sessions)),
                [.. g.SelectMany(f => f.SendingIps).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(SqlReportStore.MaxIpsShown)]))
            .OrderByDescending(f => f.Sessions).ThenBy(f => f.ResultType, StringComparer.Ordinal)
            .ToList();
        return new ReceivedDomain(domain, Sum(days.Select(d => d.Successful)), Sum(days.Select(d => d.Failed)),
            [.. rows.Select(r => r.PolicyType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            days, failures,
            [.. rows.SelectMany(r => r.Reporters).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(SqlReportStore.MaxReportersShown)]);
    }

    public static async Task<Sent> SentAsync(SessionStore store, DateOnly since, CancellationToken ct) =>
        new(since, await store.DeliveriesAsync(since, ct));

    /// <summary>Counts are saturated in the store (at 9e18); their sum saturates too instead of overflowing.</summary>
    private static long Sum(IEnumerable<long> values)
    {
        long total = 0;
        foreach (long v in values)
            total = v > long.MaxValue - total ? long.MaxValue : total + v;
        return total;
    }
}
