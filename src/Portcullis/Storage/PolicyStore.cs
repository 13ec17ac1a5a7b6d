using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Storage;

/// <summary>
/// The typed cache over any <see cref="IEntryStore"/> backend: STS and DANE entries as JSON
/// (<see cref="CacheEntryJson"/>), keyed by domain. An entry this version cannot read is a miss, never an error.
/// </summary>
public sealed class PolicyStore(IEntryStore entries) : IPolicyStore
{
    /// <summary>The backend below (tests and tools reach it through here).</summary>
    public IEntryStore Entries => entries;

    /// <summary>A store that forgets on exit: used by <c>query</c>, which always shows live evidence.</summary>
    public static PolicyStore InMemory() => new(new MemoryEntryStore());

    public static PolicyStore OpenSqlite(string path, ILogger logger) => new(SqliteEntryStore.Open(path, logger));

    public static PolicyStore ConnectRedis(string configuration, string prefix) => new(RedisEntryStore.Connect(configuration, prefix));

    public static PolicyStore OpenPostgres(string connectionString, string prefix) => new(new PostgresEntryStore(connectionString, prefix));

    public async Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) =>
        await entries.GetAsync(EntryKind.Sts, domain, ct) is { } json ? CacheEntryJson.Deserialize(json) : null;

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct) =>
        entries.UpsertIfNewerAsync(EntryKind.Sts, entry.Domain, CacheEntryJson.Serialize(entry), entry.DiscardAfter, entry.UpdatedAt, ct);

    public async Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) =>
        [.. (await entries.ListAsync(EntryKind.Sts, ct)).Select(CacheEntryJson.Deserialize).OfType<StsCacheEntry>()
            .OrderBy(e => e.Domain, StringComparer.Ordinal)];

    public async Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) =>
        await entries.GetAsync(EntryKind.Dane, domain, ct) is { } json ? CacheEntryJson.DeserializeDane(json) : null;

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct) =>
        entries.UpsertIfNewerAsync(EntryKind.Dane, entry.Domain, CacheEntryJson.Serialize(entry), entry.ExpiresAt, entry.UpdatedAt, ct);

    public async Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) =>
        [.. (await entries.ListAsync(EntryKind.Dane, ct)).Select(CacheEntryJson.DeserializeDane).OfType<DaneCacheEntry>()
            .OrderBy(e => e.Domain, StringComparer.Ordinal)];

    public Task<int> PurgeAsync(string? domain, CancellationToken ct) => entries.DeleteAsync(null, domain, ct);

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) => entries.DeleteExpiredAsync(now, ct);

    private int _disposed;

    /// <summary>Once only: GuardedPolicyStore disposes its inner store, and the container disposes it again.</summary>
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? entries.DisposeAsync() : ValueTask.CompletedTask;
}
