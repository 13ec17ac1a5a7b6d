using Npgsql;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>
/// Shared cache in PostgreSQL: tables <c>PREFIX_sts_cache</c> and <c>PREFIX_dane_cache</c> (created on
/// first use, so the daemon starts while the database is down). Writes are conditional on the
/// version, so concurrent servers never replace a newer entry with an older one.
/// </summary>
public sealed class PostgresPolicyStore : IPolicyStore
{
    private readonly NpgsqlDataSource _db;
    private readonly string _sts;
    private readonly string _dane;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public PostgresPolicyStore(string connectionString, string prefix)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        // Short, explicit timeouts: an unreachable database must cost seconds, not Postfix's patience.
        csb.Timeout = Math.Min(csb.Timeout, 3);
        csb.CommandTimeout = Math.Min(csb.CommandTimeout, 5);
        _db = NpgsqlDataSource.Create(csb.ConnectionString);
        (_sts, _dane) = ($"{prefix}_sts_cache", $"{prefix}_dane_cache");
    }

    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        if (_schemaReady)
            return;
        await _schemaLock.WaitAsync(ct);
        try
        {
            foreach (string table in new[] { _sts, _dane })
            {
                await using var cmd = _db.CreateCommand($"""
                    CREATE TABLE IF NOT EXISTS {table} (
                        domain text PRIMARY KEY,
                        entry text NOT NULL,
                        discard_after timestamptz NOT NULL,
                        updated_at bigint NOT NULL)
                    """);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    public async Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync(_sts, domain, ct) is { } json ? CacheEntryJson.Deserialize(json) : null;

    public async Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync(_dane, domain, ct) is { } json ? CacheEntryJson.DeserializeDane(json) : null;

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync(_sts, entry.Domain, CacheEntryJson.Serialize(entry), entry.DiscardAfter, entry.UpdatedAt, ct);

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync(_dane, entry.Domain, CacheEntryJson.Serialize(entry), entry.ExpiresAt, entry.UpdatedAt, ct);

    private async Task<string?> GetJsonAsync(string table, string domain, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        await using var cmd = _db.CreateCommand($"SELECT entry FROM {table} WHERE domain = $1");
        cmd.Parameters.AddWithValue(domain);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    private async Task SetJsonAsync(string table, string domain, string json, DateTimeOffset discardAfter, DateTimeOffset updated,
        CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        await using var cmd = _db.CreateCommand($"""
            INSERT INTO {table} AS t (domain, entry, discard_after, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (domain) DO UPDATE SET entry = excluded.entry, discard_after = excluded.discard_after,
                updated_at = excluded.updated_at
            WHERE t.updated_at <= excluded.updated_at
            """);
        cmd.Parameters.AddWithValue(domain);
        cmd.Parameters.AddWithValue(json);
        cmd.Parameters.AddWithValue(discardAfter.UtcDateTime);
        cmd.Parameters.AddWithValue(updated.UtcTicks);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) =>
        [.. (await ListJsonAsync(_sts, ct)).Select(CacheEntryJson.Deserialize).OfType<StsCacheEntry>()];

    public async Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) =>
        [.. (await ListJsonAsync(_dane, ct)).Select(CacheEntryJson.DeserializeDane).OfType<DaneCacheEntry>()];

    private async Task<List<string>> ListJsonAsync(string table, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        await using var cmd = _db.CreateCommand($"SELECT entry FROM {table} ORDER BY domain");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<string>();
        while (await reader.ReadAsync(ct))
            list.Add(reader.GetString(0));
        return list;
    }

    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        int n = 0;
        foreach (string table in new[] { _sts, _dane })
        {
            await using var cmd = _db.CreateCommand(domain is null ? $"DELETE FROM {table}" : $"DELETE FROM {table} WHERE domain = $1");
            if (domain is not null)
                cmd.Parameters.AddWithValue(domain);
            n += await cmd.ExecuteNonQueryAsync(ct);
        }
        return n;
    }

    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        int n = 0;
        foreach (string table in new[] { _sts, _dane })
        {
            await using var cmd = _db.CreateCommand($"DELETE FROM {table} WHERE discard_after < $1");
            cmd.Parameters.AddWithValue(now.UtcDateTime);
            n += await cmd.ExecuteNonQueryAsync(ct);
        }
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await _db.DisposeAsync();
        _schemaLock.Dispose();
    }
}
