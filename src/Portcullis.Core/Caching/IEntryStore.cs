namespace Portcullis.Core.Caching;

/// <summary>What a cache entry is about; each kind is its own table (or key space) in a backend.</summary>
public enum EntryKind { Sts, Dane }

/// <summary>
/// The narrow contract every cache backend (memory, SQLite, Redis, PostgreSQL) implements: opaque JSON
/// by (kind, key), a discard time and a version. What the JSON means is the typed store's business, so a
/// new kind or a fix to newest-wins is made once, not per backend.
/// </summary>
public interface IEntryStore : IAsyncDisposable
{
    /// <summary>The stored JSON, or null when there is none (or it is past its discard time and the backend expires by itself).</summary>
    Task<string?> GetAsync(EntryKind kind, string key, CancellationToken ct);

    /// <summary>
    /// Stores <paramref name="json"/> unless the stored entry has a newer <paramref name="version"/>: concurrent
    /// writers (several daemons on one shared cache) never replace a newer computation with an older one.
    /// Equal versions overwrite.
    /// </summary>
    Task UpsertIfNewerAsync(EntryKind kind, string key, string json, DateTimeOffset discardAfter, DateTimeOffset version,
        CancellationToken ct);

    /// <summary>Every stored JSON of <paramref name="kind"/>, in no particular order.</summary>
    Task<IReadOnlyList<string>> ListAsync(EntryKind kind, CancellationToken ct);

    /// <summary>Deletes entries of <paramref name="kind"/> (null: every kind) for <paramref name="key"/> (null: every key).
    /// Returns the number deleted.</summary>
    Task<int> DeleteAsync(EntryKind? kind, string? key, CancellationToken ct);

    /// <summary>Deletes entries whose discard time is before <paramref name="now"/>. Backends that expire entries
    /// themselves (Redis TTLs) return 0: there is nothing left to delete.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct);
}
