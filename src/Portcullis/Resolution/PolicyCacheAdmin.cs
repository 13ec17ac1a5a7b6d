using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Storage;

namespace Portcullis.Resolution;

/// <summary>The cache tools' and the sweeper's view of the cache: memory and the store together.</summary>
public sealed class PolicyCacheAdmin(PolicyMemory memory, GuardedPolicyStore store, StsEngine engine, TimeProvider time,
    ILogger<PolicyCacheAdmin> log)
{
    /// <summary>Everything cached, memory first (it is newer), then the store; with query counts.</summary>
    public async Task<IReadOnlyList<CacheItem>> ListAsync(RenderOptions render, CancellationToken ct)
    {
        IReadOnlyList<Core.Dane.DaneCacheEntry> storedDane = [];
        IReadOnlyList<StsCacheEntry> storedSts = [];
        try
        {
            storedDane = await store.ListDaneAsync(ct);
            storedSts = await store.ListAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            store.CountFailure();
            log.LogError(ex, "Cache listing from the store failed; showing memory only");
        }
        var dane = storedDane.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        var sts = storedSts.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        foreach (var (d, de, se) in memory.Entries())
        {
            if (de is not null)
                dane[d] = de;
            if (se is not null)
                sts[d] = se;
        }
        return CacheItem.Join(dane.Values, sts.Values, engine, render, time.GetUtcNow(), d => memory.Hits(d));
    }

    /// <summary>Forgets one domain (or all) in memory and in the store.</summary>
    public Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        memory.Purge(domain);
        return store.PurgeAsync(domain, ct);
    }

    /// <summary>Drops memory entries past their usefulness; the store is swept too.</summary>
    public Task SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        memory.Sweep(now);
        return store.DeleteExpiredAsync(now, ct);
    }
}
