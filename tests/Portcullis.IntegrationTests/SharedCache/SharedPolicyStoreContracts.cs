using Portcullis.Core.Caching;
using Portcullis.Storage;
using Portcullis.Tests.Storage;

namespace Portcullis.IntegrationTests.SharedCache;

/// <summary>One redis-server and one PostgreSQL for the contract classes below; each test uses its own key or table prefix.</summary>
public sealed class CacheServersFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;
    public PostgresServer Postgres { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Postgres = await PostgresServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    public static string NewPrefix() => "c" + Guid.NewGuid().ToString("N")[..8];
}

/// <summary>The cache contract (tests/Portcullis.Tests/Storage/PolicyStoreContract.cs) over a real redis-server.</summary>
public sealed class RedisPolicyStoreContract(CacheServersFixture servers) : PolicyStoreContract, IClassFixture<CacheServersFixture>
{
    protected override bool ExpiresItself => true;

    protected override IEntryStore OpenEmpty() => RedisEntryStore.Connect(servers.Redis.Configuration, CacheServersFixture.NewPrefix());
}

/// <summary>The cache contract over a real PostgreSQL.</summary>
public sealed class PostgresPolicyStoreContract(CacheServersFixture servers) : PolicyStoreContract, IClassFixture<CacheServersFixture>
{
    protected override IEntryStore OpenEmpty() => new PostgresEntryStore(servers.Postgres.ConnectionString, CacheServersFixture.NewPrefix());
}
