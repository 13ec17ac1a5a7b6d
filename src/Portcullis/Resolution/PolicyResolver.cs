using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Portcullis.Cache;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;

namespace Portcullis.Resolution;

/// <summary>
/// Resolves one domain: answers from memory when the cached entry is fresh, otherwise drives
/// <see cref="StsEngine"/> through DNS and HTTP. Concurrent queries for a domain share one
/// resolution; a persistent store keeps results across restarts.
/// </summary>
public sealed class PolicyResolver
{
    private readonly IDnsResolver _dns;
    private readonly IPolicyFetcher _fetcher;
    private readonly IPolicyStore _store;
    private readonly StsEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, StsCacheEntry> _memory = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<Resolution>> _inflight = new(StringComparer.Ordinal);

    public PolicyResolver(IDnsResolver dns, IPolicyFetcher fetcher, IPolicyStore store, StsEngine engine,
        TimeProvider time, ILogger<PolicyResolver> log)
    {
        (_dns, _fetcher, _store, _engine, _time, _log) = (dns, fetcher, store, engine, time, log);
    }

    /// <summary>How many live resolutions ran (cache misses), for tests and metrics.</summary>
    public long LiveResolutions => Interlocked.Read(ref _live);
    private long _live;

    /// <summary>Resolves <paramref name="domain"/> (an A-label, lower case).</summary>
    public Task<Resolution> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (_memory.TryGetValue(domain, out var hot) && now < hot.RecheckAt)
            return Task.FromResult(new Resolution(domain, _engine.AnswerFrom(hot, now), true) { Entry = hot });

        // Shared, so one caller's cancellation (Postfix hanging up) does not cancel the others.
        var shared = _inflight.GetOrAdd(domain, d => Task.Run(() => ResolveSharedAsync(d)));
        return shared.WaitAsync(ct);
    }

    private async Task<Resolution> ResolveSharedAsync(string domain)
    {
        try
        {
            return await ResolveCoreAsync(domain, CancellationToken.None);
        }
        finally
        {
            _inflight.TryRemove(domain, out _);
        }
    }

    private async Task<Resolution> ResolveCoreAsync(string domain, CancellationToken ct)
    {
        var entry = await LoadAsync(domain, ct);
        var now = _time.GetUtcNow();
        var step = _engine.Start(entry, now);
        if (step is StsDone cached)
            return new Resolution(domain, cached.Answer, true) { Entry = entry };

        Interlocked.Increment(ref _live);
        var txtResult = await _dns.QueryTxtAsync("_mta-sts." + domain, ct);
        TxtObservation obs;
        StsTxtResult? txt = null;
        if (txtResult.IsError)
        {
            obs = TxtObservation.Error(txtResult.Detail);
        }
        else
        {
            txt = StsTxtParser.Parse(txtResult.Records);
            obs = TxtObservation.Of(txt, txtResult.Ttl);
        }
        step = _engine.OnTxt(domain, entry, obs, _time.GetUtcNow());

        FetchReport? fetch = null;
        if (step is StsNeedFetch need)
        {
            fetch = await _fetcher.FetchAsync(domain, ct);
            step = _engine.OnFetch(domain, entry, need, fetch.Outcome, txtResult.Ttl, _time.GetUtcNow());
            if (fetch.Outcome.Policy is null)
                _log.LogWarning("MTA-STS policy fetch for {Domain} failed: {Detail}", domain, fetch.Outcome.Detail);
        }

        var done = (StsDone)step;
        if (done.Entry is { } updated)
            await SaveAsync(entry, updated, ct);
        _log.LogInformation("{Domain}: {Verdict} ({Reason})", domain, done.Answer.Verdict, done.Answer.Reason);
        return new Resolution(domain, done.Answer, false)
        {
            Txt = txt,
            TxtDnsDetail = txtResult.Detail,
            Fetch = fetch,
            Entry = done.Entry ?? entry,
        };
    }

    private async Task<StsCacheEntry?> LoadAsync(string domain, CancellationToken ct)
    {
        if (_memory.TryGetValue(domain, out var e))
            return e;
        try
        {
            e = await _store.GetAsync(domain, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A broken cache must cost a live lookup, never a wrong answer.
            _log.LogError(ex, "Cache read for {Domain} failed; resolving live", domain);
            return null;
        }
        if (e is not null)
            _memory[domain] = e;
        return e;
    }

    private async Task SaveAsync(StsCacheEntry? previous, StsCacheEntry updated, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (previous?.HasValidPolicy(now) == true && previous.Policy!.Mode == StsMode.Enforce
            && updated.Policy?.Mode is StsMode.None)
        {
            _log.LogWarning("{Domain}: MTA-STS policy changed from enforce to none (id {Old} -> {New})",
                updated.Domain, previous.PolicyId, updated.PolicyId);
        }
        _memory[updated.Domain] = updated;
        try
        {
            await _store.SetAsync(updated, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _log.LogError(ex, "Cache write for {Domain} failed; the answer stays in memory only", updated.Domain);
        }
    }

    /// <summary>Forgets one domain (or all) in memory and in the store.</summary>
    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        if (domain is null)
            _memory.Clear();
        else
            _memory.TryRemove(domain, out _);
        return await _store.PurgeAsync(domain, ct);
    }

    /// <summary>Drops memory entries past their usefulness; the store is swept too.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        foreach (var (domain, e) in _memory)
        {
            if (e.DiscardAfter < now)
                _memory.TryRemove(domain, out _);
        }
        await _store.DeleteExpiredAsync(now, ct);
    }
}
