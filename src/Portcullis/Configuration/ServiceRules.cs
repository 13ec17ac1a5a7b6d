using Portcullis.Dns;

namespace Portcullis.Configuration;

/// <summary>The rules of the service itself: socketmap and metrics listeners, DNS, limits, refresh, monitoring and the cache.</summary>
internal static class ServiceRules
{
    public static void Validate(PortcullisConfig c, ConfigErrors e)
    {
        if (c.Listen.Count == 0)
            e.Err("listen: at least one address is required");
        foreach (string l in c.Listen)
            e.Try(() => ConfigLoader.ParseListen(l));
        e.TcpListeners("metrics.listen", c.Metrics.Listen);
        e.Try(() => ConfigLoader.ParseMode(c.SocketPermissions));
        if (c.Dns.Server.Length > 0 && !ResolvConf.TryParseEndpoint(c.Dns.Server, 53, out _))
            e.Err($"dns.server: '{c.Dns.Server}' is not HOST[:PORT] with an IP address");
        e.Positive("limits.max_connections", c.Limits.MaxConnections);
        e.Positive("limits.idle_timeout", c.Limits.IdleTimeout);
        e.Positive("limits.write_timeout", c.Limits.WriteTimeout);
        // The host waits 30 s for connections to end at shutdown; the grace must end well before.
        if (c.Limits.ShutdownGrace is <= 0 or > 20)
            e.Err($"limits.shutdown_grace: must be 1 to 20 seconds, not {c.Limits.ShutdownGrace}");
        e.Positive("limits.max_mx_hosts", c.Limits.MaxMxHosts);
        e.Positive("refresh.ahead", c.Refresh.Ahead);
        e.Positive("refresh.idle_after", c.Refresh.IdleAfter);
        e.Positive("refresh.max_backoff", c.Refresh.MaxBackoff);
        if (c.Monitoring.Interval < 10)
            e.Err($"monitoring.interval: at least 10 seconds, not {c.Monitoring.Interval}");
        if (c.Monitoring.Concurrency is < 1 or > 16)
            e.Err($"monitoring.concurrency: from 1 to 16, not {c.Monitoring.Concurrency}");
        e.Positive("dns.timeout_ms", c.Dns.TimeoutMs);
        e.Positive("dns.attempts", c.Dns.Attempts);
        Cache(c.Cache, e);
    }

    private static void Cache(CacheConfig cache, ConfigErrors e)
    {
        e.Positive("cache.negative_ttl", cache.NegativeTtl);
        switch (cache.Type)
        {
            case "sqlite":
                break;
            case "redis" when cache.Redis.Length == 0:
                e.Err("cache.redis: required with cache.type redis (e.g. \"127.0.0.1:6379\")");
                break;
            case "postgres" when cache.Postgres.Length == 0:
                e.Err("cache.postgres: required with cache.type postgres (an Npgsql connection string)");
                break;
            case "redis" or "postgres":
                break;
            default:
                e.Err($"cache.type: '{cache.Type}' is not sqlite, redis or postgres");
                break;
        }
        if (cache.KeyPrefix.Length == 0 || cache.KeyPrefix.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_'))
            e.Err($"cache.key_prefix: '{cache.KeyPrefix}' must be letters, digits or '_'");
    }
}
