using Portcullis.Core.Checking;
using Portcullis.Hosting.Jobs;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// The own-domains page's posture from the daemon's own monitoring (the latest scheduled `check` run): ready when
/// no check fails. The TLS-RPT evidence for switching to enforce is `rollout status`'s verdict, named in the detail.
/// </summary>
public sealed class MonitorReadiness(OwnDomainMonitor monitor, TimeProvider time) : IReadinessSource
{
    public Readiness For(string domain)
    {
        if (!monitor.Domains.Contains(domain, StringComparer.Ordinal))
            return new NoReadiness().For(domain);
        var status = monitor.Snapshot.FirstOrDefault(s => s.Domain == domain);
        if (status is null)
            return new(false, null, "not checked yet: the first monitoring run comes within a minute of the start");
        string when = $"checked {(int)(time.GetUtcNow() - status.CheckedAt).TotalMinutes} min ago";
        if (status.Error is { } error)
            return new(true, false, $"{when}: the run failed ({error})");
        var failing = status.Checks.Where(c => c.Value == CheckStatus.Fail).Select(c => c.Key.ToString()).Order(StringComparer.Ordinal).ToList();
        string evidence = $"; TLS-RPT evidence for enforce: `portcullis rollout status {domain}`";
        return failing.Count == 0
            ? new(true, true, $"{when}: all {status.Checks.Count} checks pass{evidence}")
            : new(true, false, $"{when}: failing {string.Join(", ", failing)}{evidence}");
    }
}
