namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>When reports are due and when failed deliveries are retried. Pure: time is passed in.</summary>
public sealed record ReportPlanner(TimeSpan SendAfter, TimeSpan Spread, TimeSpan RetryFor)
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxRetryInterval = TimeSpan.FromHours(4);

    /// <summary>
    /// A day's report for a domain is due once the day is over, plus <see cref="SendAfter"/>, plus a
    /// stable per-domain offset within <see cref="Spread"/>, so receivers are not all hit at 00:00.
    /// </summary>
    public DateTimeOffset DueAt(DateOnly day, string domain) =>
        ReportDocument.DayStart(day).AddDays(1) + SendAfter + Offset(domain);

    public bool IsDue(DateOnly day, string domain, DateTimeOffset now) => now >= DueAt(day, domain);

    /// <summary>The next attempt after <paramref name="attempts"/> failed ones, or null when the
    /// retry window (24 h by default, RFC 8460 §5.3 for HTTPS) since the first attempt is over.</summary>
    public DateTimeOffset? NextAttempt(DateTimeOffset firstAttempt, int attempts, DateTimeOffset now)
    {
        var interval = TimeSpan.FromTicks(Math.Min(MaxRetryInterval.Ticks, FirstRetry.Ticks << Math.Min(attempts - 1, 10)));
        var next = now + interval;
        return next - firstAttempt > RetryFor ? null : next;
    }

    private TimeSpan Offset(string domain)
    {
        if (Spread <= TimeSpan.Zero)
            return TimeSpan.Zero;
        // FNV-1a: stable across processes (string.GetHashCode is randomised per process).
        uint h = 2166136261;
        foreach (char c in domain)
            h = (h ^ c) * 16777619;
        return TimeSpan.FromSeconds(h % (uint)Math.Max(1, Spread.TotalSeconds));
    }
}
