using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using StackExchange.Redis;

namespace Portcullis.Cache;

/// <summary>
/// Shared cache in Redis: one hash per domain and kind (<c>PREFIX:sts:DOMAIN</c>, <c>PREFIX:dane:DOMAIN</c>)
/// holding the JSON entry and its version, expiring with a Redis TTL. A Lua script makes writes
/// conditional, so concurrent servers never replace a newer entry with an older one.
/// </summary>
public sealed class RedisPolicyStore : IPolicyStore
{
    // KEYS[1] key; ARGV: version (ticks), json, expiry (unix ms). Returns 1 when written.
    private const string SetIfNewer = """
        local current = redis.call('HGET', KEYS[1], 'v')
        if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2])
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        return 1
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly string _prefix;

    private RedisPolicyStore(ConnectionMultiplexer redis, string prefix) => (_redis, _prefix) = (redis, prefix + ":");

    /// <summary>Connects in the background: an unreachable Redis must not stop the daemon from starting.</summary>
    public static RedisPolicyStore Connect(string configuration, string prefix)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 2000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 2000);
        options.ClientName = "portcullis";
        return new RedisPolicyStore(ConnectionMultiplexer.Connect(options), prefix);
    }

    private IDatabase Db => _redis.GetDatabase();

    private RedisKey Key(string kind, string domain) => $"{_prefix}{kind}:{domain}";

    public async Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync(Key("sts", domain), ct) is { } json ? CacheEntryJson.Deserialize(json) : null;

    public async Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync(Key("dane", domain), ct) is { } json ? CacheEntryJson.DeserializeDane(json) : null;

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync(Key("sts", entry.Domain), CacheEntryJson.Serialize(entry), entry.UpdatedAt, entry.DiscardAfter, ct);

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync(Key("dane", entry.Domain), CacheEntryJson.Serialize(entry), entry.UpdatedAt, entry.ExpiresAt, ct);

    private async Task<string?> GetJsonAsync(RedisKey key, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        RedisValue v = await Db.HashGetAsync(key, "e");
        return v.IsNull ? null : v.ToString();
    }

    private async Task SetJsonAsync(RedisKey key, string json, DateTimeOffset version, DateTimeOffset expires, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await Db.ScriptEvaluateAsync(SetIfNewer, [key], [version.UtcTicks, json, expires.ToUnixTimeMilliseconds()]);
    }

    public async Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) =>
        [.. (await ListJsonAsync("sts", ct)).Select(CacheEntryJson.Deserialize).OfType<StsCacheEntry>().OrderBy(e => e.Domain, StringComparer.Ordinal)];

    public async Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) =>
        [.. (await ListJsonAsync("dane", ct)).Select(CacheEntryJson.DeserializeDane).OfType<DaneCacheEntry>().OrderBy(e => e.Domain, StringComparer.Ordinal)];

    private async Task<List<string>> ListJsonAsync(string kind, CancellationToken ct)
    {
        var list = new List<string>();
        foreach (var key in await KeysAsync(kind, ct))
        {
            if (await GetJsonAsync(key, ct) is { } json)
                list.Add(json);
        }
        return list;
    }

    /// <summary>SCAN on every primary, never KEYS: a shared Redis may hold much more than our cache.</summary>
    private async Task<List<RedisKey>> KeysAsync(string kind, CancellationToken ct)
    {
        var keys = new List<RedisKey>();
        foreach (var server in _redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: $"{_prefix}{kind}:*", pageSize: 500).WithCancellation(ct))
                keys.Add(key);
        }
        if (keys.Count == 0 && !_redis.IsConnected)
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        return keys;
    }

    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        if (domain is not null)
            return (int)await Db.KeyDeleteAsync([Key("sts", domain), Key("dane", domain)]);
        var keys = (await KeysAsync("sts", ct)).Concat(await KeysAsync("dane", ct)).ToArray();
        return keys.Length == 0 ? 0 : (int)await Db.KeyDeleteAsync(keys);
    }

    /// <summary>Redis expires entries itself.</summary>
    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) => Task.FromResult(0);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
