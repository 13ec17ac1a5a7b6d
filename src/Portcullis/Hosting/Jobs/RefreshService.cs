using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Policy;
using Portcullis.Core.Refresh;
using Portcullis.Observability;
using Portcullis.Resolution;

namespace Portcullis.Hosting.Jobs;

/// <summary>
/// Refreshes the policies of recently queried domains shortly before they expire, so Postfix
/// almost never waits for a live lookup. Bounded concurrency; failures back off and, by the
/// engine's rules, never replace a still-valid policy.
/// </summary>
public sealed class RefreshService(PolicyResolver resolver, PolicyMemory memory, RefreshOptions options, TimeProvider time,
    PortcullisMetrics metrics, ILogger<RefreshService> log) : BackgroundService
{
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(30);
    public const int Concurrency = 4;
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset NotBefore)> _backoff = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(Concurrency);
    // The QUERY answer each refresh last produced, so an unchanged one is logged at debug only.
    private readonly ConcurrentDictionary<string, string> _lastAnswer = new(StringComparer.Ordinal);
    private static readonly RenderOptions AnswerKey = new(null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await RunOnceAsync(stoppingToken);
    }

    /// <summary>One planning round: refresh everything due now, at most <see cref="Concurrency"/> at a time.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        memory.ForgetIdleSince(now - options.IdleAfter);
        var candidates = memory.RefreshCandidates(now, d => _backoff.TryGetValue(d, out var b) ? b.NotBefore : DateTimeOffset.MinValue).ToList();
        var known = candidates.Select(c => c.Domain).ToHashSet(StringComparer.Ordinal);
        foreach (string gone in _lastAnswer.Keys.Where(d => !known.Contains(d)))
            _lastAnswer.TryRemove(gone, out _);
        var due = RefreshPlanner.DueNow(candidates, time.GetUtcNow(), options);
        await Task.WhenAll(due.Select(d => RefreshOneAsync(d, ct)));
    }

    private async Task RefreshOneAsync(string domain, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            var before = resolver.CachedVerdict(domain);
            var after = await resolver.RefreshAsync(domain, options.Ahead, ct);
            bool failed = after.Answer.Verdict == Verdict.Temp || after.Sts?.Fetch?.Outcome.Policy is null && after.Sts?.Fetch is not null;
            if (failed)
            {
                int n = _backoff.TryGetValue(domain, out var b) ? b.Failures + 1 : 1;
                _backoff[domain] = (n, time.GetUtcNow() + RefreshPlanner.Backoff(n, options.MaxBackoff));
                metrics.Prefetch.Add(1, PortcullisMetrics.Tags("result", "failure"));
                log.LogWarning("Refresh of {Domain} failed ({Reason}); retry in {Delay}", domain, after.Answer.Reason,
                    RefreshPlanner.Backoff(n, options.MaxBackoff));
                return;
            }
            _backoff.TryRemove(domain, out _);
            metrics.Prefetch.Add(1, PortcullisMetrics.Tags("result", "success"));
            string answer = AnswerRenderer.Render(after.Answer, false, AnswerKey).ToString();
            string? last = _lastAnswer.TryGetValue(domain, out var l) ? l : null;
            _lastAnswer[domain] = answer;
            if (before is { } was && PolicyStrength.IsDowngrade(was, after.Answer.Verdict))
            {
                log.LogWarning("Policy of {Domain} downgraded during refresh: {Before} -> {After} ({Reason})",
                    domain, was, after.Answer.Verdict, after.Answer.Reason);
            }
            else if ((before is { } v && v != after.Answer.Verdict) || (last is not null && last != answer))
            {
                log.LogInformation("Refresh of {Domain}: answer changed to {Answer} ({Reason})", domain, answer, after.Answer.Reason);
            }
            else
            {
                log.LogDebug("Refresh of {Domain}: unchanged, {Answer}", domain, answer);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Refresh of {Domain} failed unexpectedly", domain);
        }
        finally
        {
            _slots.Release();
        }
    }
}
