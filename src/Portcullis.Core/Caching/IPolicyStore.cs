using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Caching;

/// <summary>
/// Per-domain MTA-STS state and DANE verdicts, typed. One implementation (Storage/PolicyStore) over
/// any <see cref="IEntryStore"/> backend; decorators (guards, metrics) wrap this port.
/// </summary>
public interface IPolicyStore : IAsyncDisposable
{
    Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct);
    /// <summary>Kept only when not older than what is stored (<see cref="StsCacheEntry.UpdatedAt"/>).</summary>
    Task SetAsync(StsCacheEntry entry, CancellationToken ct);
    Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct);
    Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct);
    /// <summary>Kept only when not older than what is stored (<see cref="DaneCacheEntry.UpdatedAt"/>).</summary>
    Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct);
    Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct);
    /// <summary>Deletes one domain (both kinds), or every entry when <paramref name="domain"/> is null. Returns the count.</summary>
    Task<int> PurgeAsync(string? domain, CancellationToken ct);
    /// <summary>Deletes entries that are no longer useful at <paramref name="now"/>.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct);
}
