using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Observability;

namespace Portcullis.Storage;

/// <summary>
/// The store as resolution uses it: a broken store costs a live lookup, never a wrong answer. Reads and
/// writes that fail (or come while the store rests after a failure) act as "nothing stored" and "not
/// written"; one error line per outage. Also the newest-wins merge with memory and the downgrade warnings.
/// Listing, purging and sweeping pass through: their callers report failures themselves.
/// </summary>
public sealed class GuardedPolicyStore(IPolicyStore inner, TimeProvider time, ILogger<GuardedPolicyStore> log,
    PortcullisMetrics? metrics = null) : IPolicyStore
{
    /// <summary>After a store failure, leave it alone for a while: every query would otherwise wait for its timeout.</summary>
    public static readonly TimeSpan StoreRetry = TimeSpan.FromSeconds(30);

    private int _down;
    private long _retryTicks;

    /// <summary>What the store holds when it is newer than <paramref name="mine"/> (a result another server wrote to a shared cache); else null.</summary>
    public async Task<StsCacheEntry?> NewerAsync(string domain, StsCacheEntry? mine, CancellationToken ct) =>
        await GetAsync(domain, ct) is { } stored && (mine is null || mine.UpdatedAt < stored.UpdatedAt) ? stored : null;

    /// <inheritdoc cref="NewerAsync(string, StsCacheEntry?, CancellationToken)"/>
    public async Task<DaneCacheEntry?> NewerAsync(string domain, DaneCacheEntry? mine, CancellationToken ct) =>
        await GetDaneAsync(domain, ct) is { } stored && (mine is null || mine.UpdatedAt < stored.UpdatedAt) ? stored : null;

    /// <summary>Writes <paramref name="updated"/>, warning when it protects less than the entry it replaces (<see cref="PolicyStrength"/>).</summary>
    public Task SaveAsync(StsCacheEntry? previous, StsCacheEntry updated, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (PolicyStrength.IsDowngrade(previous, updated, now))
        {
            log.LogWarning("{Domain}: MTA-STS policy changed from enforce to {Mode} (id {Old} -> {New})", updated.Domain,
                updated.HasValidPolicy(now) ? StsModeNames.ToWire(updated.Policy!.Mode) : "no valid policy", previous!.PolicyId, updated.PolicyId);
        }
        return SetAsync(updated, ct);
    }

    /// <inheritdoc cref="SaveAsync(StsCacheEntry?, StsCacheEntry, CancellationToken)"/>
    public Task SaveAsync(DaneCacheEntry? previous, DaneCacheEntry updated, CancellationToken ct)
    {
        if (PolicyStrength.IsDowngrade(previous, updated))
            log.LogWarning("{Domain}: DANE downgraded from {Old} to {New}: {Reason}", updated.Domain, previous!.Verdict, updated.Verdict, updated.Reason);
        return SetDaneAsync(updated, ct);
    }

    public Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) => ReadAsync(inner.GetAsync, domain, ct);

    public Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) => ReadAsync(inner.GetDaneAsync, domain, ct);

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct) => WriteAsync(inner.SetAsync, entry, entry.Domain, ct);

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct) => WriteAsync(inner.SetDaneAsync, entry, entry.Domain, ct);

    public Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) => inner.ListAsync(ct);

    public Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) => inner.ListDaneAsync(ct);

    public Task<int> PurgeAsync(string? domain, CancellationToken ct) => inner.PurgeAsync(domain, ct);

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) => inner.DeleteExpiredAsync(now, ct);

    /// <summary>Nothing: the inner store belongs to whoever opened it (the container disposes it once, not twice).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Counts a failure seen by a caller of the pass-through operations.</summary>
    public void CountFailure() => metrics?.StoreFailures.Add(1);

    private bool Resting() => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _retryTicks);

    private async Task<T?> ReadAsync<T>(Func<string, CancellationToken, Task<T?>> read, string domain, CancellationToken ct)
        where T : class
    {
        if (Resting())
            return null;
        T? stored;
        try
        {
            stored = await read(domain, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(ex, domain);
            return null;
        }
        Ok();
        return stored;
    }

    private async Task WriteAsync<T>(Func<T, CancellationToken, Task> write, T entry, string domain, CancellationToken ct)
    {
        if (Resting())
            return;
        try
        {
            await write(entry, ct);
            Ok();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(ex, domain);
        }
    }

    // One error line per outage, not one per query; every failure is counted.
    private void Failed(Exception ex, string domain)
    {
        CountFailure();
        Interlocked.Exchange(ref _retryTicks, (time.GetUtcNow() + StoreRetry).UtcTicks);
        if (Interlocked.Exchange(ref _down, 1) == 0)
            log.LogError("Cache store unavailable ({Error}); answering from live lookups and memory, retrying every {Retry} s",
                ex.Message, StoreRetry.TotalSeconds);
        else
            log.LogDebug(ex, "Cache store still unavailable ({Domain})", domain);
    }

    private void Ok()
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
            log.LogInformation("Cache store is available again");
    }
}
