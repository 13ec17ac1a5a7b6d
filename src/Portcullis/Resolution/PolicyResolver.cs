using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Portcullis.Cache;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Observability;

namespace Portcullis.Resolution;

/// <summary>
/// Resolves one domain: the DANE branch and the MTA-STS branch in parallel, combined with DANE
/// first. Fresh cached results answer from memory; concurrent queries for a domain share one
/// resolution; a persistent store keeps results across restarts.
/// </summary>
public sealed class PolicyResolver(IDnsResolver dns, IPolicyFetcher fetcher, IPolicyStore store, StsEngine engine,
    DaneResolver daneResolver, ResolverHealth health, TimeProvider time, ILogger<PolicyResolver> log,
    PortcullisMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<string, StsCacheEntry> _sts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DaneCacheEntry> _dane = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<Resolution>> _inflight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastQueried = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _hits = new(StringComparer.Ordinal);

    /// <summary>Domains with any cached state in memory.</summary>
    public long CachedDomains => _sts.Count + _dane.Count(kv => !_sts.ContainsKey(kv.Key));

    /// <summary>Resolves <paramref name="domain"/> (an A-label, lower case).</summary>
    public Task<Resolution> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        _lastQueried[domain] = now;
        _hits.AddOrUpdate(domain, 1, static (_, n) => n + 1);
        if (TryAnswerFromMemory(domain, now) is { } hot)
            return Task.FromResult(hot);
        // Shared, so one caller's cancellation (Postfix hanging up) does not cancel the others.
        var mine = new TaskCompletionSource<Resolution>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inflight.GetOrAdd(domain, mine.Task);
        if (shared == mine.Task)
            _ = RunSharedAsync(domain, mine);
        return shared.WaitAsync(ct);
    }

    /// <summary>The answer memory holds for a domain right now, without counting it as a query.</summary>
    public Verdict? CachedVerdict(string domain) => TryAnswerFromMemory(domain, time.GetUtcNow())?.Answer.Verdict;

    private Resolution? TryAnswerFromMemory(string domain, DateTimeOffset now)
    {
        if (!_dane.TryGetValue(domain, out var d) || now >= d.ExpiresAt)
            return null;
        var dane = d.ToResult(now);
        if (d.Verdict != DaneVerdict.None)
            return new Resolution(domain, PolicyCombiner.Combine(dane, PolicyAnswer.NoPolicy("")), true) { Dane = dane, DaneFromCache = true };
        if (!_sts.TryGetValue(domain, out var s) || now >= s.RecheckAt)
            return null;
        var sts = engine.AnswerFrom(s, now);
        return new Resolution(domain, PolicyCombiner.Combine(dane, sts), true)
        { Dane = dane, DaneFromCache = true, Sts = new StsBranch(sts, true) { Entry = s } };
    }

    private async Task RunSharedAsync(string domain, TaskCompletionSource<Resolution> mine)
    {
        try
        {
            mine.SetResult(await Task.Run(() => ResolveCoreAsync(domain, TimeSpan.Zero, CancellationToken.None)));
        }
        catch (Exception ex)
        {
            mine.SetException(ex);
        }
        finally
        {
            // Only this resolution's own entry: a newer one may already be registered.
            _inflight.TryRemove(new KeyValuePair<string, Task<Resolution>>(domain, mine.Task));
        }
    }

    /// <summary>
    /// Proactive refresh: resolves as if <paramref name="ahead"/> had already passed, so results
    /// about to expire are renewed before a query has to wait for them.
    /// </summary>
    public async Task<Resolution> RefreshAsync(string domain, TimeSpan ahead, CancellationToken ct)
    {
        var mine = new TaskCompletionSource<Resolution>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inflight.GetOrAdd(domain, mine.Task);
        if (shared != mine.Task)
            return await shared.WaitAsync(ct); // a live query is already resolving it
        try
        {
            var r = await ResolveCoreAsync(domain, ahead, ct);
            mine.SetResult(r);
            return r;
        }
        catch (Exception ex)
        {
            mine.SetException(ex);
            throw;
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<string, Task<Resolution>>(domain, mine.Task));
        }
    }

    /// <summary>Domains worth refreshing: queried before, with a DANE verdict or a valid MTA-STS policy.</summary>
    public IEnumerable<Core.Refresh.RefreshCandidate> RefreshCandidates(Func<string, DateTimeOffset> notBefore)
    {
        var now = time.GetUtcNow();
        foreach (var (domain, last) in _lastQueried)
        {
            DateTimeOffset? due = null;
            if (_dane.TryGetValue(domain, out var d) && d.Verdict is DaneVerdict.DaneOnly or DaneVerdict.Dane)
                due = d.ExpiresAt;
            else if (_sts.TryGetValue(domain, out var s) && s.HasValidPolicy(now))
                due = d is null ? s.RecheckAt : Min(s.RecheckAt, d.ExpiresAt);
            yield return new Core.Refresh.RefreshCandidate(domain, last, due, notBefore(domain));
        }
    }

    /// <summary>Forgets query times older than <paramref name="idle"/> so the table cannot grow forever.</summary>
    public void ForgetIdle(TimeSpan idle)
    {
        var cutoff = time.GetUtcNow() - idle;
        foreach (var (domain, last) in _lastQueried)
        {
            if (last < cutoff && _lastQueried.TryRemove(domain, out _))
                _hits.TryRemove(domain, out _);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private async Task<Resolution> ResolveCoreAsync(string domain, TimeSpan ahead, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var daneEntry = await LoadAsync(_dane, domain, store.GetDaneAsync, e => now + ahead < e.ExpiresAt, e => e.UpdatedAt, ct);
        var stsEntry = await LoadAsync(_sts, domain, store.GetAsync, e => now + ahead < e.RecheckAt, e => e.UpdatedAt, ct);

        bool daneFresh = daneEntry is not null && now + ahead < daneEntry.ExpiresAt;
        if (daneFresh && daneEntry!.Verdict != DaneVerdict.None)
        {
            var cached = daneEntry.ToResult(now);
            return new Resolution(domain, PolicyCombiner.Combine(cached, PolicyAnswer.NoPolicy("")), true)
            { Dane = cached, DaneFromCache = true };
        }

        var mxKnown = daneFresh ? null : new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var daneTask = daneFresh
            ? Task.FromResult(daneEntry!.ToResult(now))
            : daneResolver.ResolveAsync(domain, health.Validates, mxKnown, ct);
        var stsTask = ResolveStsAsync(domain, stsEntry, mxKnown?.Task ?? Task.FromResult(false), ahead, ct);
        var dane = await daneTask;
        var sts = await stsTask;

        if (!daneFresh)
        {
            if (DaneCacheEntry.From(domain, dane, time.GetUtcNow()) is { } fresh)
                await SaveDaneAsync(daneEntry, fresh, ct);
            else
                log.LogWarning("{Domain}: DANE lookup failed, answering TEMP: {Reason}", domain, dane.Reason);
        }
        var answer = PolicyCombiner.Combine(dane, sts.Answer);
        log.LogInformation("{Domain}: {Verdict} ({Reason})", domain, answer.Verdict, answer.Reason);
        return new Resolution(domain, answer, false) { Dane = dane, DaneFromCache = daneFresh, Sts = sts };
    }

    private async Task<StsBranch> ResolveStsAsync(string domain, StsCacheEntry? entry, Task<bool> nullMx, TimeSpan ahead,
        CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (engine.Start(entry, now + ahead) is StsDone)
            return new StsBranch(engine.AnswerFrom(entry!, now), true) { Entry = entry };

        var txtResult = await dns.QueryTxtAsync("_mta-sts." + domain, ct);
        StsTxtResult? txt = null;
        TxtObservation obs;
        if (txtResult.IsError)
        {
            obs = TxtObservation.Error(txtResult.Detail);
        }
        else
        {
            txt = StsTxtParser.Parse(txtResult.Records);
            obs = TxtObservation.Of(txt, txtResult.Ttl);
        }
        StsStep step = engine.OnTxt(domain, entry, obs, time.GetUtcNow(), ahead);

        FetchReport? fetch = null;
        if (step is StsNeedFetch need)
        {
            if (await nullMx)
            {
                // RFC 7505: the domain accepts no mail; no reason to contact its policy host.
                return new StsBranch(PolicyAnswer.NoPolicy("null MX"), false) { Txt = txt, TxtDnsDetail = txtResult.Detail, SkippedForNullMx = true };
            }
            fetch = await fetcher.FetchAsync(domain, ct);
            step = engine.OnFetch(domain, entry, need, fetch.Outcome, txtResult.Ttl, time.GetUtcNow());
            if (fetch.Outcome.Policy is null)
                log.LogWarning("MTA-STS policy fetch for {Domain} failed: {Detail}", domain, fetch.Outcome.Detail);
        }

        var done = (StsDone)step;
        if (done.Entry is { } updated)
            await SaveStsAsync(entry, updated, ct);
        return new StsBranch(done.Answer, false) { Txt = txt, TxtDnsDetail = txtResult.Detail, Fetch = fetch, Entry = done.Entry ?? entry };
    }

    /// <summary>
    /// Memory first while it is fresh; otherwise the store too, keeping whichever is newer, so a
    /// result another server wrote to a shared cache saves this one the lookups.
    /// </summary>
    private async Task<T?> LoadAsync<T>(ConcurrentDictionary<string, T> memory, string domain,
        Func<string, CancellationToken, Task<T?>> read, Func<T, bool> fresh, Func<T, DateTimeOffset> updated, CancellationToken ct)
        where T : class
    {
        memory.TryGetValue(domain, out var mine);
        if ((mine is not null && fresh(mine)) || StoreResting())
            return mine;
        T? stored;
        try
        {
            stored = await read(domain, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A broken cache must cost a live lookup, never a wrong answer.
            StoreFailed(ex, domain);
            return mine;
        }
        StoreOk();
        if (stored is null || (mine is not null && updated(mine) >= updated(stored)))
            return mine;
        memory[domain] = stored;
        return stored;
    }

    private async Task SaveStsAsync(StsCacheEntry? previous, StsCacheEntry updated, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (previous?.HasValidPolicy(now) == true && previous.Policy!.Mode == StsMode.Enforce && updated.Policy?.Mode is StsMode.None)
        {
            log.LogWarning("{Domain}: MTA-STS policy changed from enforce to none (id {Old} -> {New})",
                updated.Domain, previous.PolicyId, updated.PolicyId);
        }
        _sts[updated.Domain] = updated;
        await WriteAsync(() => store.SetAsync(updated, ct), updated.Domain);
    }

    private async Task SaveDaneAsync(DaneCacheEntry? previous, DaneCacheEntry updated, CancellationToken ct)
    {
        if (previous is { Verdict: DaneVerdict.DaneOnly or DaneVerdict.Dane } && updated.Verdict == DaneVerdict.None)
            log.LogWarning("{Domain}: DANE downgraded from {Old} to none: {Reason}", updated.Domain, previous.Verdict, updated.Reason);
        _dane[updated.Domain] = updated;
        await WriteAsync(() => store.SetDaneAsync(updated, ct), updated.Domain);
    }

    private async Task WriteAsync(Func<Task> write, string domain)
    {
        if (StoreResting())
            return;
        try
        {
            await write();
            StoreOk();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            StoreFailed(ex, domain);
        }
    }

    private int _storeDown;
    private long _storeRetryTicks;

    /// <summary>After a store failure, leave it alone for a while: every query would otherwise wait for its timeout.</summary>
    public static readonly TimeSpan StoreRetry = TimeSpan.FromSeconds(30);

    private bool StoreResting() => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _storeRetryTicks);

    // One error line per outage, not one per query; every failure is counted.
    private void StoreFailed(Exception ex, string domain)
    {
        metrics?.StoreFailures.Add(1);
        Interlocked.Exchange(ref _storeRetryTicks, (time.GetUtcNow() + StoreRetry).UtcTicks);
        if (Interlocked.Exchange(ref _storeDown, 1) == 0)
            log.LogError("Cache store unavailable ({Error}); answering from live lookups and memory, retrying every {Retry} s",
                ex.Message, StoreRetry.TotalSeconds);
        else
            log.LogDebug(ex, "Cache store still unavailable ({Domain})", domain);
    }

    private void StoreOk()
    {
        if (Interlocked.Exchange(ref _storeDown, 0) == 1)
            log.LogInformation("Cache store is available again");
    }

    /// <summary>Everything cached, memory first (it is newer), then the store; with query counts.</summary>
    public async Task<IReadOnlyList<CacheItem>> ListAsync(RenderOptions render, CancellationToken ct)
    {
        IReadOnlyList<DaneCacheEntry> storedDane = [];
        IReadOnlyList<StsCacheEntry> storedSts = [];
        try
        {
            storedDane = await store.ListDaneAsync(ct);
            storedSts = await store.ListAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics?.StoreFailures.Add(1);
            log.LogError(ex, "Cache listing from the store failed; showing memory only");
        }
        var dane = storedDane.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        foreach (var (d, e) in _dane)
            dane[d] = e;
        var sts = storedSts.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        foreach (var (d, e) in _sts)
            sts[d] = e;
        return CacheItem.Join(dane.Values, sts.Values, engine, render, time.GetUtcNow(),
            d => _hits.TryGetValue(d, out long n) ? n : 0);
    }

    /// <summary>Forgets one domain (or all) in memory and in the store.</summary>
    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        if (domain is null)
        {
            _sts.Clear();
            _dane.Clear();
            _hits.Clear();
        }
        else
        {
            _sts.TryRemove(domain, out _);
            _dane.TryRemove(domain, out _);
            _hits.TryRemove(domain, out _);
        }
        return await store.PurgeAsync(domain, ct);
    }

    /// <summary>Drops memory entries past their usefulness; the store is swept too.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var (domain, e) in _sts)
        {
            if (e.DiscardAfter < now)
                _sts.TryRemove(domain, out _);
        }
        foreach (var (domain, e) in _dane)
        {
            if (e.ExpiresAt < now)
                _dane.TryRemove(domain, out _);
        }
        await store.DeleteExpiredAsync(now, ct);
    }
}
