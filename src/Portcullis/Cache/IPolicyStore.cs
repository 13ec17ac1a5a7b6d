using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>Persistent storage of per-domain MTA-STS state and DANE verdicts. Backends: SQLite (default), memory.</summary>
public interface IPolicyStore : IDaneStore, IAsyncDisposable
{
    Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct);
    Task SetAsync(StsCacheEntry entry, CancellationToken ct);
    Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct);
    /// <summary>Deletes one domain, or every entry when <paramref name="domain"/> is null. Returns the count.</summary>
    Task<int> PurgeAsync(string? domain, CancellationToken ct);
    /// <summary>Deletes entries that are no longer useful at <paramref name="now"/>.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct);
}

/// <summary>Persistent storage of per-domain DANE verdicts.</summary>
public interface IDaneStore
{
    Task<Core.Dane.DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct);
    Task SetDaneAsync(Core.Dane.DaneCacheEntry entry, CancellationToken ct);
    Task<IReadOnlyList<Core.Dane.DaneCacheEntry>> ListDaneAsync(CancellationToken ct);
}
