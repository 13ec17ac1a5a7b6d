using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>Persistent storage of per-domain MTA-STS state. Backends: SQLite (default).</summary>
public interface IPolicyStore : IAsyncDisposable
{
    Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct);
    Task SetAsync(StsCacheEntry entry, CancellationToken ct);
    Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct);
    /// <summary>Deletes one domain, or every entry when <paramref name="domain"/> is null. Returns the count.</summary>
    Task<int> PurgeAsync(string? domain, CancellationToken ct);
    /// <summary>Deletes entries that are no longer useful at <paramref name="now"/>.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct);
}
