using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Monitoring;
using Portcullis.Core.Text;

namespace Portcullis.Hosting.Jobs;

/// <summary>Checks one own domain and returns what it found (the daemon's is <see cref="OwnDomainProbe.CheckAsync"/>).</summary>
public delegate Task<OwnDomainStatus> OwnDomainCheck(string domain, CancellationToken ct);

/// <summary>
/// Re-runs `check` for each own domain (publish.domains) on a jittered schedule, at most
/// <c>concurrency</c> at a time and each bounded by <see cref="DomainTimeout"/>; keeps the latest result per
/// domain for the gauges and the console, and logs a check that starts or stops failing once, not every run.
/// </summary>
public sealed class OwnDomainMonitor(IReadOnlyList<string> domains, OwnDomainCheck check, TimeSpan interval, int concurrency,
    TimeProvider time, ILogger log, Func<double>? random = null) : BackgroundService
{
    /// <summary>Per domain: up to 10 MX hosts probed one after another (15 s each at most), DNS, the policy fetch.</summary>
    public static readonly TimeSpan DomainTimeout = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, OwnDomainStatus> _latest = new(StringComparer.Ordinal);
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    public IReadOnlyList<string> Domains => domains;

    /// <summary>The latest result per domain, by name; a domain not checked yet is absent.</summary>
    public IReadOnlyList<OwnDomainStatus> Snapshot => [.. _latest.Values.OrderBy(s => s.Domain, StringComparer.Ordinal)];

    private DateTimeOffset _started;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // ExecuteAsync may begin later on the thread pool: the first run counts from the daemon's start.
        _started = time.GetUtcNow();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (domains.Count == 0)
            return;
        try
        {
            // Due times count from the start of the previous run, so a slow run does not push later ones back.
            var due = _started + MonitorSchedule.FirstDelay(interval, _random());
            while (!stoppingToken.IsCancellationRequested)
            {
                if (due - time.GetUtcNow() is { Ticks: > 0 } wait)
                    await Task.Delay(wait, time, stoppingToken);
                var started = time.GetUtcNow();
                await RunOnceAsync(stoppingToken);
                due = started + MonitorSchedule.NextDelay(interval, _random());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutdown
        }
    }

    /// <summary>Checks every domain once.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(domains.Select(async d =>
        {
            await gate.WaitAsync(ct);
            try
            {
                Record(await CheckOneAsync(d, ct));
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private async Task<OwnDomainStatus> CheckOneAsync(string domain, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        using var timeout = new CancellationTokenSource(DomainTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await check(domain, linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Unfinished(domain, started, $"no result within {DomainTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug or an unexpected I/O error in one run must not end monitoring: it is that run's result.
            return Unfinished(domain, started, $"the check failed: {ex.Message}");
        }
    }

    private OwnDomainStatus Unfinished(string domain, DateTimeOffset started, string error) =>
        new(domain, time.GetUtcNow(), time.GetUtcNow() - started, OwnDomainJudge.AllFailing(), [], [], null, null, null, error);

    private void Record(OwnDomainStatus status)
    {
        _latest.TryGetValue(status.Domain, out var previous);
        _latest[status.Domain] = status;
        foreach (var c in OwnDomainJudge.Changes(previous, status))
        {
            string check = OwnDomainJudge.Label(c.Check);
            // Details quote DNS records, banners and certificate subjects: escaped like `check` prints them.
            if (c.Failing)
                log.LogWarning("Own domain {Domain}: check {Check} FAILING: {Detail}", status.Domain, check, TerminalText.Escape(c.Detail));
            else
                log.LogInformation("Own domain {Domain}: check {Check} passes again", status.Domain, check);
        }
        if (previous is null)
        {
            int failing = OwnDomainJudge.AllChecks.Count(status.Failing);
            log.LogInformation("Own domain {Domain} monitored: {Failing} of {Checks} checks failing (every {Interval} s)",
                status.Domain, failing, OwnDomainJudge.AllChecks.Count, (int)interval.TotalSeconds);
        }
    }
}
