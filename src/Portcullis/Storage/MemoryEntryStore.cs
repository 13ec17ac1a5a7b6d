using Portcullis.Core.Caching;

namespace Portcullis.Storage;

/// <summary>Entries in process memory, with the same newest-wins rule as the shared backends.</summary>
public sealed class MemoryEntryStore : IEntryStore
{
    private readonly record struct Row(string Json, DateTimeOffset DiscardAfter, long Version);

    private readonly Lock _lock = new();
    private readonly Dictionary<(EntryKind, string), Row> _rows = [];

    public Task<string?> GetAsync(EntryKind kind, string key, CancellationToken ct)
    {
        lock (_lock)
            return Task.FromResult(_rows.TryGetValue((kind, key), out var row) ? row.Json : null);
    }

    public Task UpsertIfNewerAsync(EntryKind kind, string key, string json, DateTimeOffset discardAfter, DateTimeOffset version,
        CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue((kind, key), out var row) || row.Version <= version.UtcTicks)
                _rows[(kind, key)] = new Row(json, discardAfter, version.UtcTicks);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListAsync(EntryKind kind, CancellationToken ct)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<string>>([.. _rows.Where(r => r.Key.Item1 == kind).Select(r => r.Value.Json)]);
    }

    public Task<int> DeleteAsync(EntryKind? kind, string? key, CancellationToken ct) =>
        Task.FromResult(RemoveWhere(k => (kind is null || k.Item1 == kind) && (key is null || k.Item2 == key), _ => true));

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) =>
        Task.FromResult(RemoveWhere(_ => true, row => row.DiscardAfter < now));

    private int RemoveWhere(Func<(EntryKind, string), bool> key, Func<Row, bool> row)
    {
        lock (_lock)
        {
            var doomed = _rows.Where(r => key(r.Key) && row(r.Value)).Select(r => r.Key).ToList();
            foreach (var k in doomed)
                _rows.Remove(k);
            return doomed.Count;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
