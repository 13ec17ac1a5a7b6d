using System.Collections.Concurrent;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>A store that forgets on exit: used by <c>query</c>, which always shows live evidence.</summary>
public sealed class MemoryPolicyStore : IPolicyStore
{
    private readonly ConcurrentDictionary<string, StsCacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DaneCacheEntry> _dane = new(StringComparer.Ordinal);

    public Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) =>
        Task.FromResult(_dane.TryGetValue(domain, out var e) ? e : null);

    public Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<DaneCacheEntry>>(_dane.Values.OrderBy(e => e.Domain, StringComparer.Ordinal).ToList());

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct)
    {
        _dane[entry.Domain] = entry;
        return Task.CompletedTask;
    }

    public Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) =>
        Task.FromResult(_entries.TryGetValue(domain, out var e) ? e : null);

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct)
    {
        _entries[entry.Domain] = entry;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<StsCacheEntry>>(_entries.Values.OrderBy(e => e.Domain, StringComparer.Ordinal).ToList());

    public Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        if (domain is not null)
            return Task.FromResult((_entries.TryRemove(domain, out _) ? 1 : 0) + (_dane.TryRemove(domain, out _) ? 1 : 0));
        int n = _entries.Count + _dane.Count;
        _entries.Clear();
        _dane.Clear();
        return Task.FromResult(n);
    }

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        int n = 0;
        foreach (var (d, e) in _entries)
        {
            if (e.DiscardAfter < now && _entries.TryRemove(d, out _))
                n++;
        }
        foreach (var (d, e) in _dane)
        {
            if (e.ExpiresAt < now && _dane.TryRemove(d, out _))
                n++;
        }
        return Task.FromResult(n);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
