using System.Collections.Concurrent;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Refresh;

namespace Portcullis.Resolution;

/// <summary>
/// What the daemon holds in memory per domain: the cached entries, when it was last queried and how often,
/// and whatever the socketmap host rendered from them. Every change to a domain's state happens under
/// its entry's lock; the hot path only reads (volatile) and counts (interlocked).
/// </summary>
public sealed class PolicyMemory
{
    // One entry per domain for everything memory holds (entries, usage, rendered replies): with
    // 100,000 cached domains a dictionary node per kind of state costs more than the state itself.
    private readonly ConcurrentDictionary<string, Entry> _state = new(StringComparer.Ordinal);
    private readonly ReasonPool _reasons = new();

    public sealed class Entry(string domain)
    {
        public readonly string Domain = domain;
        internal StsCacheEntry? Sts;
        internal DaneCacheEntry? Dane;
        internal long LastQueriedTicks; // 0: not queried (or forgotten as idle)
        internal long Hits;
        /// <summary>The socketmap host's rendered replies; dropped when the entries go.</summary>
        internal object? Rendered;
        internal bool Removed; // set under lock once the dictionary no longer holds this object

        internal bool Empty => Sts is null && Dane is null && LastQueriedTicks == 0;
    }

    /// <summary>Domains with any cached state in memory (an O(n) count, for the gauge).</summary>
    public long CachedDomains => _state.Count(kv => kv.Value.Sts is not null || kv.Value.Dane is not null);

    public StsCacheEntry? Sts(string domain) => _state.TryGetValue(domain, out var st) ? Volatile.Read(ref st.Sts) : null;

    public DaneCacheEntry? Dane(string domain) => _state.TryGetValue(domain, out var st) ? Volatile.Read(ref st.Dane) : null;

    public long Hits(string domain) => _state.TryGetValue(domain, out var st) ? Volatile.Read(ref st.Hits) : 0;

    /// <summary>When memory alone may answer <paramref name="domain"/> (<see cref="Freshness.Answerable"/>), the entries to answer from.</summary>
    public bool TryAnswerable(string domain, DateTimeOffset now, out MemoryAnswer answer)
    {
        answer = default;
        return _state.TryGetValue(domain, out var st) && TryAnswerable(st, now, out answer);
    }

    /// <inheritdoc cref="TryAnswerable(string, DateTimeOffset, out MemoryAnswer)"/>
    public bool TryAnswerable(ReadOnlySpan<char> domain, DateTimeOffset now, out MemoryAnswer answer)
    {
        answer = default;
        return _state.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(domain, out var st) && TryAnswerable(st, now, out answer);
    }

    private static bool TryAnswerable(Entry st, DateTimeOffset now, out MemoryAnswer answer)
    {
        var d = Volatile.Read(ref st.Dane);
        // When DANE decides, MTA-STS state plays no part in the answer (nor in when it changes).
        var s = d is not null && Freshness.DaneDecides(d) ? null : Volatile.Read(ref st.Sts);
        answer = Freshness.Answerable(d, s, now) ? new MemoryAnswer(st, d!, s) : default;
        return answer.Entry is not null;
    }

    /// <summary>A query of this domain: refresh follows recent queries, the cache tools show the hits.</summary>
    public static void Count(Entry st, DateTimeOffset now)
    {
        Volatile.Write(ref st.LastQueriedTicks, now.UtcTicks);
        Interlocked.Increment(ref st.Hits);
    }

    /// <inheritdoc cref="Count(Entry, DateTimeOffset)"/>
    public void Count(string domain, DateTimeOffset now)
    {
        if (_state.TryGetValue(domain, out var st))
            Count(st, now);
        else
            Update(domain, now, static (st, t) => Count(st, t));
    }

    public void Set(StsCacheEntry e) => Update(e.Domain, _reasons.Share(e), static (st, e) => st.Sts = e);

    public void Set(DaneCacheEntry e) => Update(e.Domain, _reasons.Share(e), static (st, e) => st.Dane = e);

    /// <summary>Replaces what the socketmap host rendered for this entry, under its lock.</summary>
    public static void SetRendered<TArg>(Entry st, TArg arg, Func<object?, TArg, object?> next)
    {
        lock (st)
            Volatile.Write(ref st.Rendered, next(st.Rendered, arg));
    }

    // Changes one domain's state under its lock, re-creating it if a sweep removed it meanwhile.
    private void Update<TArg>(string domain, TArg arg, Action<Entry, TArg> change)
    {
        while (true)
        {
            var st = _state.GetOrAdd(domain, static d => new Entry(d));
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
    private void RemoveIfEmpty(Entry st)
    {
        if (!st.Empty)
            return;
        st.Removed = true;
        _state.TryRemove(new KeyValuePair<string, Entry>(st.Domain, st));
    }

    /// <summary>Domains worth refreshing: queried before, with a DANE verdict or a valid MTA-STS policy (<see cref="Freshness.RefreshDue"/>).</summary>
    public IEnumerable<RefreshCandidate> RefreshCandidates(DateTimeOffset now, Func<string, DateTimeOffset> notBefore)
    {
        foreach (var (domain, st) in _state)
        {
            long lastTicks = Volatile.Read(ref st.LastQueriedTicks);
            if (lastTicks == 0)
                continue;
            var due = Freshness.RefreshDue(Volatile.Read(ref st.Dane), Volatile.Read(ref st.Sts), now);
            yield return new RefreshCandidate(domain, new DateTimeOffset(lastTicks, TimeSpan.Zero), due, notBefore(domain));
        }
    }

    /// <summary>Forgets query times before <paramref name="cutoff"/> so the table cannot grow forever.</summary>
    public void ForgetIdleSince(DateTimeOffset cutoff)
    {
        foreach (var (_, st) in _state)
        {
            lock (st)
            {
                if (st.LastQueriedTicks != 0 && st.LastQueriedTicks < cutoff.UtcTicks)
                {
                    st.LastQueriedTicks = 0;
                    st.Hits = 0;
                    RemoveIfEmpty(st);
                }
            }
        }
    }

    /// <summary>Every entry memory holds, for listing.</summary>
    public IEnumerable<(string Domain, DaneCacheEntry? Dane, StsCacheEntry? Sts)> Entries()
    {
        foreach (var (d, st) in _state)
            yield return (d, Volatile.Read(ref st.Dane), Volatile.Read(ref st.Sts));
    }

    /// <summary>Forgets the entries of one domain (or all); query times stay (refresh candidates), counts restart.</summary>
    public void Purge(string? domain)
    {
        foreach (var st in domain is null ? _state.Values : _state.TryGetValue(domain, out var one) ? [one] : [])
        {
            lock (st)
            {
                st.Sts = null;
                st.Dane = null;
                st.Rendered = null;
                st.Hits = 0;
                RemoveIfEmpty(st);
            }
        }
    }

    /// <summary>Drops entries past their usefulness at <paramref name="now"/>.</summary>
    public void Sweep(DateTimeOffset now)
    {
        foreach (var (_, st) in _state)
        {
            lock (st)
            {
                if (st.Sts is { } s && s.DiscardAfter < now)
                    st.Sts = null;
                if (st.Dane is { } d && d.ExpiresAt < now)
                    st.Dane = null;
                if (st.Sts is null && st.Dane is null)
                    st.Rendered = null;
                RemoveIfEmpty(st);
            }
        }
    }
}
