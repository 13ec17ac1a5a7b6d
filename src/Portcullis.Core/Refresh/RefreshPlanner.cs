namespace Portcullis.Core.Refresh;

/// <param name="Ahead">How long before expiry a policy is refreshed.</param>
/// <param name="IdleAfter">Domains without a query for this long are no longer refreshed: to the
/// recipient every refresh looks like traffic, so it must follow real mail.</param>
/// <param name="MaxBackoff">Ceiling of the back-off between failed refreshes.</param>
public sealed record RefreshOptions(TimeSpan Ahead, TimeSpan IdleAfter, TimeSpan MaxBackoff)
{
    public static RefreshOptions Default { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(1), TimeSpan.FromMinutes(10));
}

/// <summary>What the planner knows of one domain. Null <c>Due</c>: nothing worth refreshing.</summary>
public readonly record struct RefreshCandidate(string Domain, DateTimeOffset LastQueried, DateTimeOffset? Due,
    DateTimeOffset NotBefore);

/// <summary>Chooses which domains to refresh now. Pure: time and state come in as values.</summary>
public static class RefreshPlanner
{
    public static IReadOnlyList<string> DueNow(IEnumerable<RefreshCandidate> candidates, DateTimeOffset now, RefreshOptions o)
    {
        var due = new List<string>();
        foreach (var c in candidates)
        {
            if (c.Due is not { } expires || now - c.LastQueried > o.IdleAfter || now < c.NotBefore)
                continue;
            // Each domain gets a stable offset in the first half of the window, so a burst of
            // policies cached together is not refreshed in one burst.
            if (now >= expires - o.Ahead + Jitter(c.Domain, o.Ahead / 2))
                due.Add(c.Domain);
        }
        return due;
    }

    /// <summary>30 s, 60 s, 120 s … up to the ceiling.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan max)
    {
        var t = TimeSpan.FromSeconds(30 * Math.Pow(2, Math.Clamp(failures - 1, 0, 16)));
        return t > max ? max : t;
    }

    /// <summary>A deterministic fraction of <paramref name="span"/> derived from the name (FNV-1a).</summary>
    public static TimeSpan Jitter(string domain, TimeSpan span)
    {
        uint h = 2166136261;
        foreach (char ch in domain)
            h = (h ^ ch) * 16777619;
        return TimeSpan.FromTicks((long)(span.Ticks * (h / (double)uint.MaxValue)));
    }
}
