using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Checking;
using Portcullis.Core.Monitoring;
using Portcullis.Hosting.Jobs;

namespace Portcullis.Tests.Monitoring;

/// <summary>The own-domain monitor's schedule, bounds and logging, driven by a fake clock.</summary>
public sealed class OwnDomainMonitorTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LogLines _log = new();

    private OwnDomainStatus Status(string domain, params CheckItem[] items) =>
        new(domain, _time.GetUtcNow(), TimeSpan.Zero, OwnDomainJudge.Summarise(items), items, [], null, null, null);

    private static CheckItem Fail(CheckKind kind, string title, string detail) => new("A", title, CheckStatus.Fail, detail) { Kind = kind };

    /// <summary>Waits (bounded in real time, generously for a loaded machine) for the job's continuation.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.True(condition());
    }

    [Fact]
    public async Task Runs_soon_after_start_then_every_interval_with_jitter_counted_from_each_start()
    {
        var runs = new List<DateTimeOffset>();
        var randoms = new Queue<double>([0.5, 0.0, 0.999999]);
        using var monitor = new OwnDomainMonitor(["a.test"], (d, _) =>
        {
            lock (runs)
                runs.Add(_time.GetUtcNow());
            return Task.FromResult(Status(d));
        }, Hour, 2, _time, _log, () => randoms.Dequeue());
        int Runs()
        {
            lock (runs)
                return runs.Count;
        }
        var start = _time.GetUtcNow();
        await monitor.StartAsync(CancellationToken.None);

        // First run: half (random 0.5) of min(10 % of the interval, 30 s) = 15 s after start.
        _time.Advance(TimeSpan.FromSeconds(14.9));
        await Task.Delay(50);
        Assert.Equal(0, Runs());
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await Until(() => Runs() == 1);
        Assert.Equal(start.AddSeconds(15), runs[0]);

        // Next: the interval minus 10 % (random 0), from the start of the first run.
        _time.Advance(TimeSpan.FromSeconds(3239));
        await Task.Delay(50);
        Assert.Equal(1, Runs());
        _time.Advance(TimeSpan.FromSeconds(1));
        await Until(() => Runs() == 2);
        Assert.Equal(start.AddSeconds(15 + 3240), runs[1]);

        // Then plus (almost) 10 %: never beyond 1.1 intervals.
        _time.Advance(TimeSpan.FromSeconds(3959));
        await Task.Delay(50);
        Assert.Equal(2, Runs());
        _time.Advance(TimeSpan.FromSeconds(1));
        await Until(() => Runs() == 3);
        Assert.InRange((runs[2] - runs[1]).TotalSeconds, 3959, 3960);

        await monitor.StopAsync(CancellationToken.None);
        Assert.Single(monitor.Snapshot);
    }

    [Fact]
    public void Jitter_stays_within_ten_percent_and_the_first_run_within_thirty_seconds()
    {
        foreach (double r in new[] { 0, 0.25, 0.5, 0.75, 0.9999, double.NaN, -1, 2 })
        {
            Assert.InRange(MonitorSchedule.NextDelay(Hour, r), TimeSpan.FromMinutes(54), TimeSpan.FromMinutes(66));
            Assert.InRange(MonitorSchedule.FirstDelay(Hour, r), TimeSpan.Zero, TimeSpan.FromSeconds(30));
            Assert.InRange(MonitorSchedule.FirstDelay(TimeSpan.FromSeconds(10), r), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }
        Assert.NotEqual(MonitorSchedule.NextDelay(Hour, 0.1), MonitorSchedule.NextDelay(Hour, 0.9));
    }

    [Fact]
    public async Task A_state_change_is_logged_once_and_a_recovery_once()
    {
        var results = new Queue<OwnDomainStatus>();
        using var monitor = new OwnDomainMonitor(["a.test"], (_, _) => Task.FromResult(results.Dequeue()), Hour, 1, _time, _log);

        results.Enqueue(Status("a.test"));
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(["Information Own domain a.test monitored: 0 of 9 checks failing (every 3600 s)"], _log.Take());

        var broken = Fail(CheckKind.MtaStsPolicy, "policy fetch", "HTTP 404 \u001b[31m");
        for (int i = 0; i < 3; i++)
            results.Enqueue(Status("a.test", broken));
        await monitor.RunOnceAsync(CancellationToken.None);
        await monitor.RunOnceAsync(CancellationToken.None);
        await monitor.RunOnceAsync(CancellationToken.None);
        // Once, with the network's text escaped.
        var lines = _log.Take();
        Assert.Single(lines);
        Assert.StartsWith("Warning Own domain a.test: check mta_sts_policy FAILING: policy fetch: HTTP 404 ", lines[0]);
        Assert.DoesNotContain('\u001b', lines[0]);
        Assert.True(monitor.Snapshot[0].Failing(CheckKind.MtaStsPolicy));

        results.Enqueue(Status("a.test"));
        results.Enqueue(Status("a.test"));
        await monitor.RunOnceAsync(CancellationToken.None);
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(["Information Own domain a.test: check mta_sts_policy passes again"], _log.Take());
    }

    [Fact]
    public async Task A_first_run_that_finds_failures_names_each_failing_check()
    {
        using var monitor = new OwnDomainMonitor(["b.test"], (d, _) => Task.FromResult(Status(d,
            Fail(CheckKind.StartTls, "STARTTLS", "not offered"), Fail(CheckKind.StartTls, "STARTTLS 2", "refused"),
            Fail(CheckKind.TlsRptRecord, "_smtp._tls record", "no rua"))), Hour, 1, _time, _log);
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal([
            "Warning Own domain b.test: check starttls FAILING: STARTTLS: not offered; STARTTLS 2: refused",
            "Warning Own domain b.test: check tlsrpt_record FAILING: _smtp._tls record: no rua",
            "Information Own domain b.test monitored: 2 of 9 checks failing (every 3600 s)"], _log.Take());
    }

    [Fact]
    public async Task A_check_that_hangs_is_cut_off_and_counts_as_failing_everything()
    {
        using var monitor = new OwnDomainMonitor(["slow.test"], async (d, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return Status(d);
        }, Hour, 1, _time, _log);
        var run = monitor.RunOnceAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(run.IsCompleted);
        _time.Advance(OwnDomainMonitor.DomainTimeout);
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        var s = Assert.Single(monitor.Snapshot);
        Assert.Equal("no result within 300 s", s.Error);
        Assert.All(OwnDomainJudge.AllChecks, k => Assert.True(s.Failing(k)));
        Assert.Contains("Warning Own domain slow.test: check mx FAILING: no result within 300 s", _log.Take());
    }

    [Fact]
    public async Task A_check_that_throws_is_that_runs_result_and_monitoring_goes_on()
    {
        int calls = 0;
        using var monitor = new OwnDomainMonitor(["x.test"], (d, _) =>
            ++calls == 1 ? throw new InvalidOperationException("boom") : Task.FromResult(Status(d)), Hour, 1, _time, _log);
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal("the check failed: boom", monitor.Snapshot[0].Error);
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Null(monitor.Snapshot[0].Error);
        Assert.Contains("Information Own domain x.test: check mx passes again", _log.Take());
    }

    [Fact]
    public async Task At_most_concurrency_domains_are_checked_at_once()
    {
        int running = 0, peak = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string[] domains = ["a.test", "b.test", "c.test", "d.test", "e.test"];
        using var monitor = new OwnDomainMonitor(domains, async (d, ct) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await release.Task.WaitAsync(ct);
            Interlocked.Decrement(ref running);
            return Status(d);
        }, Hour, 2, _time, _log);
        var run = monitor.RunOnceAsync(CancellationToken.None);
        await Until(() => Volatile.Read(ref running) == 2);
        await Task.Delay(100);
        Assert.Equal(2, Volatile.Read(ref peak));
        release.SetResult();
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(domains, monitor.Snapshot.Select(s => s.Domain));
        Assert.Equal(2, peak);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>Captures "Level message" lines.</summary>
    private sealed class LogLines : ILogger
    {
        private readonly List<string> _lines = [];

        public List<string> Take()
        {
            lock (_lines)
            {
                var copy = _lines.ToList();
                _lines.Clear();
                return copy;
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
                _lines.Add($"{logLevel} {formatter(state, exception)}");
        }
    }
}
