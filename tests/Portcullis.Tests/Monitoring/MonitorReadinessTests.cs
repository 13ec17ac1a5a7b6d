using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Checking;
using Portcullis.Core.Monitoring;
using Portcullis.Hosting.Jobs;
using Portcullis.Hosting.OperatorConsole;

namespace Portcullis.Tests.Monitoring;

/// <summary>The console's own-domains posture comes from the monitor's latest run.</summary>
public sealed class MonitorReadinessTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    private OwnDomainStatus Status(string domain, params CheckItem[] items) =>
        new(domain, _time.GetUtcNow(), TimeSpan.Zero, OwnDomainJudge.Summarise(items), items, [], null, null, null);

    private async Task<(OwnDomainMonitor Monitor, MonitorReadiness Readiness)> RunOnceAsync(Func<string, OwnDomainStatus> result)
    {
        var monitor = new OwnDomainMonitor(["ok.test", "bad.test"], (d, _) => Task.FromResult(result(d)), TimeSpan.FromHours(1), 2,
            _time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, () => 0.0);
        await monitor.StartAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (monitor.Snapshot.Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(2, monitor.Snapshot.Count);
        return (monitor, new MonitorReadiness(monitor, _time));
    }

    [Fact]
    public async Task Passing_failing_unknown_and_not_yet_checked_domains()
    {
        var fail = new CheckItem("STARTTLS", "mx.bad.test", CheckStatus.Fail, "no STARTTLS") { Kind = CheckKind.StartTls };
        var (monitor, readiness) = await RunOnceAsync(d => d == "bad.test" ? Status(d, fail) : Status(d));
        using (monitor)
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            var ok = readiness.For("ok.test");
            Assert.Equal((true, (bool?)true), (ok.Available, ok.Ready));
            Assert.StartsWith("checked 5 min ago: all ", ok.Detail);
            Assert.Contains("portcullis rollout status ok.test", ok.Detail);
            var bad = readiness.For("bad.test");
            Assert.Equal((true, (bool?)false), (bad.Available, bad.Ready));
            Assert.Contains("failing StartTls", bad.Detail);
            // Not an own domain of this daemon (or monitoring off): said so, no verdict.
            var other = readiness.For("other.test");
            Assert.Equal((false, (bool?)null), (other.Available, other.Ready));
            await monitor.StopAsync(CancellationToken.None);
        }
        using var idle = new OwnDomainMonitor(["new.test"], (d, _) => Task.FromResult(Status(d)), TimeSpan.FromHours(1), 1, _time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var first = new MonitorReadiness(idle, _time).For("new.test");
        Assert.Equal((false, (bool?)null), (first.Available, first.Ready));
        Assert.StartsWith("not checked yet", first.Detail);
    }
}
