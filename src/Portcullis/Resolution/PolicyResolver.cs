using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Hosting.Jobs;

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
    // One entry per domain for everything memory holds (entries, usage, rendered replies): with
    // 100,000 cached domains a dictionary node per kind of state costs more than the state itself.
    private readonly ConcurrentDictionary<string, DomainState> _state = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<Resolution>> _inflight = new(StringComparer.Ordinal);

    private sealed class DomainState(string domain)
    {
        public readonly string Domain = domain;
        public StsCacheEntry? Sts;
        public DaneCacheEntry? Dane;
        public long LastQueriedTicks; // 0: not queried (or forgotten as idle)
        public long Hits;
        public CachedReply? Replies;
        public bool Removed; // set under lock once the dictionary no longer holds this object

        public bool Empty => Sts is null && Dane is null && LastQueriedTicks == 0;
    }

    /// <summary>Domains with any cached state in memory.</summary>
    public long CachedDomains => _state.Count(kv => kv.Value.Sts is not null || kv.Value.Dane is not null);

    /// <summary>Resolves <paramref name="domain"/> (an A-label, lower case).</summary>
    public Task<Resolution> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        Touch(domain, now);
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

    private Resolution? TryAnswerFromMemory(string domain, DateTimeOffset now) =>
        _state.TryGetValue(domain, out var st) && Answerable(st, now, out var d, out var s) ? FromMemory(domain, d, s, now) : null;

    /// <summary>Memory can answer: a fresh DANE verdict, or a fresh "no DANE" plus fresh MTA-STS state (null when DANE decides).</summary>
    private static bool Answerable(DomainState st, DateTimeOffset now, [NotNullWhen(true)] out DaneCacheEntry? d, out StsCacheEntry? s)
    {
        d = Volatile.Read(ref st.Dane);
        s = null;
        if (d is null || now >= d.ExpiresAt)
            return false;
        if (d.Verdict != DaneVerdict.None)
            return true;
        s = Volatile.Read(ref st.Sts);
        return s is not null && now < s.RecheckAt;
    }

    private Resolution FromMemory(string domain, DaneCacheEntry d, StsCacheEntry? s, DateTimeOffset now)
    {
        var dane = d.ToResult(now);
        if (s is null)
            return new Resolution(domain, PolicyCombiner.Combine(dane, PolicyAnswer.NoPolicy("")), true) { Dane = dane, DaneFromCache = true };
        var sts = engine.AnswerFrom(s, now);
        return new Resolution(domain, PolicyCombiner.Combine(dane, sts), true)
        { Dane = dane, DaneFromCache = true, Sts = new StsBranch(sts, true) { Entry = s } };
    }

    /// <summary>An encoded reply for one map variant, valid while memory holds the entries it was rendered from.</summary>
    public sealed class CachedReply(DaneCacheEntry dane, StsCacheEntry? sts, object map, object render, long untilTicks,
        byte[] frame, string answer)
    {
        internal readonly DaneCacheEntry Dane = dane;
        internal readonly StsCacheEntry? Sts = sts;
        internal readonly object Map = map, Render = render;
        internal readonly long UntilTicks = untilTicks;
        internal CachedReply? Next;
        /// <summary>The whole netstring, ready to write.</summary>
        public byte[] Frame { get; } = frame;
        /// <summary>The answer kind for metrics.</summary>
        public string Answer { get; } = answer;
    }

    /// <summary>
    /// The hot path: when memory can answer <paramref name="domain"/>, the reply rendered by
    /// <paramref name="encode"/> for this map variant, computed once per cached entry and reused until
    /// the entry is replaced or its answer may change. Counts the query like <see cref="ResolveAsync"/>.
    /// </summary>
    public CachedReply? TryCachedReply<TMap, TRender>(ReadOnlySpan<char> domain, TMap map, TRender render,
        Func<Resolution, TMap, TRender, (byte[] Frame, string Answer)> encode)
        where TMap : class where TRender : class
    {
        if (!_state.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(domain, out var st))
            return null;
        var now = time.GetUtcNow();
        if (!Answerable(st, now, out var d, out var s))
            return null;
        CachedReply? reply = null;
        for (var r = Volatile.Read(ref st.Replies); r is not null; r = r.Next)
        {
            // Identity, not record equality: a replaced entry is a new object.
            if (ReferenceEquals(r.Dane, d) && ReferenceEquals(r.Sts, s) && ReferenceEquals(r.Map, map) && ReferenceEquals(r.Render, render)
                && now.UtcTicks < r.UntilTicks)
            {
                reply = r;
                break;
            }
        }
        if (reply is null)
        {
            var (frame, answer) = encode(FromMemory(st.Domain, d, s, now), map, render);
            // The answer can change when DANE or MTA-STS state expires, or when a cached policy does.
            long until = d.ExpiresAt.UtcTicks;
            if (s is not null)
            {
                until = Math.Min(until, s.RecheckAt.UtcTicks);
                if (s.PolicyExpiresAt is { } pe && pe > now)
                    until = Math.Min(until, pe.UtcTicks);
            }
            reply = new CachedReply(d, s, map, render, until, frame, answer);
            lock (st)
            {
                // Keep the other variants rendered from the same entries (a few map names); drop stale ones.
                var head = st.Replies;
                int length = 0;
                for (var r = head; r is not null; r = r.Next)
                    length++;
                if (head is not null && ReferenceEquals(head.Dane, d) && ReferenceEquals(head.Sts, s) && length < 4)
                    reply.Next = head;
                Volatile.Write(ref st.Replies, reply);
            }
        }
        Counted(st, now);
        return reply;
    }

    // A query of this domain: refresh follows recent queries, the cache tools show the hits.
    private static void Counted(DomainState st, DateTimeOffset now)
    {
        Volatile.Write(ref st.LastQueriedTicks, now.UtcTicks);
        Interlocked.Increment(ref st.Hits);
    }

    private void Touch(string domain, DateTimeOffset now)
    {
        if (_state.TryGetValue(domain, out var st))
        {
            Counted(st, now);
            return;
        }
        Update(domain, now, static (st, t) => Counted(st, t));
    }

    // Changes one domain's state under its lock, re-creating it if a sweep removed it meanwhile.
    private void Update<TArg>(string domain, TArg arg, Action<DomainState, TArg> change)
    {
        while (true)
        {
            var st = _state.GetOrAdd(domain, static d => new DomainState(d));
            lock (st)
            {
                if (st.Removed)
                    continue;
                change(st, arg);
                return;
            }
        }
    }

    // Under lock(st): drops the domain from the dictionary once nothing is left in it.
    private void RemoveIfEmpty(DomainState st)
    {
        if (!st.Empty)
            return;
        st.Removed = true;
        _state.TryRemove(new KeyValuePair<string, DomainState>(st.Domain, st));
    }

    private async Task RunSharedAsync(string domain, TaskCompletionSource<Resolution> mine)
    {
        Resolution r;
        try
        {
            r = await Task.Run(() => ResolveCoreAsync(domain, TimeSpan.Zero, CancellationToken.None));
        }
        catch (Exception ex)
        {
            Unregister(domain, mine);
            mine.SetException(ex);
            return;
        }
        Unregister(domain, mine);
        mine.SetResult(r);
    }

    // Before completing: a waiter resumed by the result must not find this finished resolution
    // still registered (a refresh would take its stale result instead of resolving). Only this
    // resolution's own entry: a newer one may already be registered.
    private void Unregister(string domain, TaskCompletionSource<Resolution> mine) =>
        _inflight.TryRemove(new KeyValuePair<string, Task<Resolution>>(domain, mine.Task));

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
        Resolution r;
        try
        {
            r = await ResolveCoreAsync(domain, ahead, ct);
        }
        catch (Exception ex)
        {
            Unregister(domain, mine);
            mine.SetException(ex);
            throw;
        }
        Unregister(domain, mine);
        mine.SetResult(r);
        return r;
    }

    /// <summary>Domains worth refreshing: queried before, with a DANE verdict or a valid MTA-STS policy.</summary>
    public IEnumerable<Core.Refresh.RefreshCandidate> RefreshCandidates(Func<string, DateTimeOffset> notBefore)
    {
        var now = time.GetUtcNow();
        foreach (var (domain, st) in _state)
        {
            long lastTicks = Volatile.Read(ref st.LastQueriedTicks);
            if (lastTicks == 0)
                continue;
            var last = new DateTimeOffset(lastTicks, TimeSpan.Zero);
            DateTimeOffset? due = null;
            var d = Volatile.Read(ref st.Dane);
            var s = Volatile.Read(ref st.Sts);
            if (d is { Verdict: DaneVerdict.DaneOnly or DaneVerdict.Dane })
                due = d.ExpiresAt;
            else if (s is not null && s.HasValidPolicy(now))
                due = d is null ? s.RecheckAt : Min(s.RecheckAt, d.ExpiresAt);
            yield return new Core.Refresh.RefreshCandidate(domain, last, due, notBefore(domain));
        }
    }

    /// <summary>Forgets query times older than <paramref name="idle"/> so the table cannot grow forever.</summary>
    public void ForgetIdle(TimeSpan idle)
    {
        long cutoff = (time.GetUtcNow() - idle).UtcTicks;
        foreach (var (_, st) in _state)
        {
            lock (st)
            {
                if (st.LastQueriedTicks != 0 && st.LastQueriedTicks < cutoff)
                {
                    st.LastQueriedTicks = 0;
                    st.Hits = 0;
                    RemoveIfEmpty(st);
                }
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private async Task<Resolution> ResolveCoreAsync(string domain, TimeSpan ahead, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var daneEntry = await LoadAsync(domain, static st => st.Dane, (st, e) => st.Dane = Share(e), store.GetDaneAsync,
            e => now + ahead < e.ExpiresAt, static e => e.UpdatedAt, ct);
        var stsEntry = await LoadAsync(domain, static st => st.Sts, (st, e) => st.Sts = Share(e), store.GetAsync,
            e => now + ahead < e.RecheckAt, static e => e.UpdatedAt, ct);

        bool daneFresh = daneEntry is not null && now + ahead < daneEntry.ExpiresAt;
        if (daneFresh && daneEntry!.Verdict != DaneVerdict.None)
        {
            var cached = daneEntry.ToResult(now);
            return new Resolution(domain, PolicyCombiner.Combine(cached, PolicyAnswer.NoPolicy("")), true)
            { Dane = cached, DaneFromCache = true };
        }

        // Fresh lookups rest on the resolver's self-test: while it fails it is re-run first, so a
        // recovered resolver is trusted at once, and an unproven one yields TEMP, never a weaker answer.
        var trust = daneFresh ? ResolverTrust.Validating : await health.TrustAsync(ct);
        var mxKnown = daneFresh ? null : new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var daneTask = daneFresh
            ? Task.FromResult(daneEntry!.ToResult(now))
            : daneResolver.ResolveAsync(domain, trust, mxKnown, ct);
        var stsTask = ResolveStsAsync(domain, stsEntry, mxKnown?.Task ?? Task.FromResult(false), ahead, ct);
        var dane = await daneTask;
        var sts = await stsTask;

        if (!daneFresh)
        {
            // A verdict computed while the self-test fails is never cached: it would outlive the outage.
            if (trust == ResolverTrust.Validating && DaneCacheEntry.From(domain, dane, time.GetUtcNow()) is { } fresh)
                await SaveDaneAsync(daneEntry, fresh, ct);
            else if (dane.Verdict == DaneVerdict.Temp)
            {
                log.LogWarning("{Domain}: DANE lookup failed, answering TEMP: {Reason}", domain, dane.Reason);
                health.Suspect();
            }
        }
        var answer = PolicyCombiner.Combine(dane, sts.Answer);
        // A proactive refresh (ahead > 0) is routine: RefreshService logs it at information only when the answer changes.
        log.Log(ahead > TimeSpan.Zero ? LogLevel.Debug : LogLevel.Information, "{Domain}: {Verdict} ({Reason})", domain, answer.Verdict, answer.Reason);
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
    private async Task<T?> LoadAsync<T>(string domain, Func<DomainState, T?> get, Action<DomainState, T> set,
        Func<string, CancellationToken, Task<T?>> read, Func<T, bool> fresh, Func<T, DateTimeOffset> updated, CancellationToken ct)
        where T : class
    {
        var mine = _state.TryGetValue(domain, out var st) ? get(st) : null;
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
        Update(domain, (stored, set), static (st, a) => a.set(st, a.stored));
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
        Update(updated.Domain, Share(updated), static (st, e) => st.Sts = e);
        await WriteAsync(() => store.SetAsync(updated, ct), updated.Domain);
    }

    private async Task SaveDaneAsync(DaneCacheEntry? previous, DaneCacheEntry updated, CancellationToken ct)
    {
        if (previous is { Verdict: DaneVerdict.DaneOnly or DaneVerdict.Dane } && updated.Verdict == DaneVerdict.None)
            log.LogWarning("{Domain}: DANE downgraded from {Old} to none: {Reason}", updated.Domain, previous.Verdict, updated.Reason);
        Update(updated.Domain, Share(updated), static (st, e) => st.Dane = e);
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

    // Most cached domains share a handful of reasons ("no MTA-STS TXT record: no TXT records"), each
    // built as a new string: memory keeps one copy. Reasons naming the domain are its own; the pool is bounded.
    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);
    private const int MaxSharedReasons = 4096;

    private StsCacheEntry Share(StsCacheEntry e) =>
        SharedReason(e.Domain, e.Reason) is { } r && !ReferenceEquals(r, e.Reason) ? e with { Reason = r } : e;

    private DaneCacheEntry Share(DaneCacheEntry e) =>
        SharedReason(e.Domain, e.Reason) is { } r && !ReferenceEquals(r, e.Reason) ? e with { Reason = r } : e;

    private string? SharedReason(string domain, string reason)
    {
        if (reason.Contains(domain, StringComparison.Ordinal))
            return null;
        if (_reasons.TryGetValue(reason, out var shared))
            return shared;
        return _reasons.Count < MaxSharedReasons ? _reasons.GetOrAdd(reason, reason) : null;
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
        var sts = storedSts.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        foreach (var (d, st) in _state)
        {
            if (Volatile.Read(ref st.Dane) is { } de)
                dane[d] = de;
            if (Volatile.Read(ref st.Sts) is { } se)
                sts[d] = se;
        }
        return CacheItem.Join(dane.Values, sts.Values, engine, render, time.GetUtcNow(),
            d => _state.TryGetValue(d, out var st) ? Volatile.Read(ref st.Hits) : 0);
    }

    /// <summary>Forgets one domain (or all) in memory and in the store.</summary>
    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        foreach (var st in domain is null ? _state.Values : _state.TryGetValue(domain, out var one) ? [one] : [])
        {
            lock (st)
            {
                // Query times stay (refresh candidates); counts restart.
                st.Sts = null;
                st.Dane = null;
                st.Replies = null;
                st.Hits = 0;
                RemoveIfEmpty(st);
            }
        }
        return await store.PurgeAsync(domain, ct);
    }

    /// <summary>Drops memory entries past their usefulness; the store is swept too.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var (_, st) in _state)
        {
            lock (st)
            {
                if (st.Sts is { } s && s.DiscardAfter < now)
                    st.Sts = null;
                if (st.Dane is { } d && d.ExpiresAt < now)
                    st.Dane = null;
                if (st.Sts is null && st.Dane is null)
                    st.Replies = null;
                RemoveIfEmpty(st);
            }
        }
        await store.DeleteExpiredAsync(now, ct);
    }
}
