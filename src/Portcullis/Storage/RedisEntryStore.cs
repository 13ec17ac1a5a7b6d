using Portcullis.Core.Caching;
using StackExchange.Redis;

namespace Portcullis.Storage;

/// <summary>
/// Shared cache in Redis: one hash per domain and kind (<c>PREFIX:sts:DOMAIN</c>, <c>PREFIX:dane:DOMAIN</c>)
/// holding the JSON entry and its version, expiring with a Redis TTL. A Lua script makes writes
/// conditional, so concurrent servers never replace a newer entry with an older one.
/// </summary>
public sealed class RedisEntryStore : IEntryStore
{
    // KEYS[1] key; ARGV: version (ticks), json, expiry (unix ms). Returns 1 when written.
    private const string SetIfNewer = """
        local current = redis.call('HGET', KEYS[1], 'v')
        if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2])
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        return 1
        """;

    private static readonly EntryKind[] Kinds = [EntryKind.Sts, EntryKind.Dane];
    private readonly ConnectionMultiplexer _redis;
    private readonly string _prefix;

    private RedisEntryStore(ConnectionMultiplexer redis, string prefix) => (_redis, _prefix) = (redis, prefix + ":");

    /// <summary>Connects in the background: an unreachable Redis must not stop the daemon from starting.</summary>
    public static RedisEntryStore Connect(string configuration, string prefix)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 2000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 2000);
        options.ClientName = "portcullis";
        return new RedisEntryStore(ConnectionMultiplexer.Connect(options), prefix);
    }

    private IDatabase Db => _redis.GetDatabase();

    private static string Name(EntryKind kind) => kind == EntryKind.Sts ? "sts" : "dane";

    private RedisKey Key(EntryKind kind, string key) => $"{_prefix}{Name(kind)}:{key}";

    public Task<string?> GetAsync(EntryKind kind, string key, CancellationToken ct) => GetAsync(Key(kind, key), ct);

    private async Task<string?> GetAsync(RedisKey key, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        RedisValue v = await Db.HashGetAsync(key, "e");
        return v.IsNull ? null : v.ToString();
    }

    public async Task UpsertIfNewerAsync(EntryKind kind, string key, string json, DateTimeOffset discardAfter, DateTimeOffset version,
        CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        await Db.ScriptEvaluateAsync(SetIfNewer, [Key(kind, key)], [version.UtcTicks, json, discardAfter.ToUnixTimeMilliseconds()]);
    }

    public async Task<IReadOnlyList<string>> ListAsync(EntryKind kind, CancellationToken ct)
    {
        var list = new List<string>();
        foreach (var key in await KeysAsync(kind, ct))
        {
            if (await GetAsync(key, ct) is { } json)
                list.Add(json);
        }
        return list;
    }

    /// <summary>SCAN on every primary, never KEYS: a shared Redis may hold much more than our cache.</summary>
    private async Task<List<RedisKey>> KeysAsync(EntryKind kind, CancellationToken ct)
    {
        var keys = new List<RedisKey>();
        foreach (var server in _redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: $"{_prefix}{Name(kind)}:*", pageSize: 500).WithCancellation(ct))
                keys.Add(key);
        }
        if (keys.Count == 0 && !_redis.IsConnected)
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        return keys;
    }

    public async Task<int> DeleteAsync(EntryKind? kind, string? key, CancellationToken ct)
    {
        var kinds = kind is { } k ? [k] : Kinds;
        var keys = new List<RedisKey>();
        foreach (var each in kinds)
        {
            if (key is not null)
                keys.Add(Key(each, key));
            else
                keys.AddRange(await KeysAsync(each, ct));
        }
        return keys.Count == 0 ? 0 : (int)await Db.KeyDeleteAsync([.. keys]);
    }

    /// <summary>Redis expires entries itself.</summary>
    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) => Task.FromResult(0);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
