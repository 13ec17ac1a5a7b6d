using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Storage;

namespace Portcullis.Tests.Storage;

/// <summary>The contract over the in-process store (query, tests).</summary>
public sealed class MemoryPolicyStoreContract : PolicyStoreContract
{
    protected override IEntryStore OpenEmpty() => new MemoryEntryStore();
}

/// <summary>The contract over the default backend, each test in its own cache.db.</summary>
public sealed class SqlitePolicyStoreContract : PolicyStoreContract, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-contract-").FullName;

    protected override IEntryStore OpenEmpty() => SqliteEntryStore.Open(Path.Combine(_dir, "cache.db"), NullLogger.Instance);

    public void Dispose() => Directory.Delete(_dir, true);
}

/// <summary>The schema did not change with the backend split: a cache.db of the previous version is read as it is.</summary>
public sealed class SqliteEarlierCacheFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-oldcache-").FullName;

    [Fact]
    public async Task A_cache_file_written_by_the_previous_version_is_read()
    {
        string path = Path.Combine(_dir, "cache.db");
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            // The DDL and row format of SqlitePolicyStore before the split, verbatim.
            cmd.CommandText = """
                CREATE TABLE sts_cache (domain TEXT PRIMARY KEY, entry TEXT NOT NULL, discard_after INTEGER NOT NULL, updated_at INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE dane_cache (domain TEXT PRIMARY KEY, entry TEXT NOT NULL, discard_after INTEGER NOT NULL, updated_at INTEGER NOT NULL DEFAULT 0);
                INSERT INTO sts_cache VALUES ('old.example', '{"Domain":"old.example","TxtId":"t1","RecheckAt":"2099-01-01T00:00:00+00:00","UpdatedAt":"2026-11-30T00:00:00+00:00","Reason":"r"}', 4070908800, 638685504000000000);
                INSERT INTO dane_cache VALUES ('old.example', '{"Domain":"old.example","Verdict":"DaneOnly","Reason":"d","MxSecure":true,"ExpiresAt":"2099-01-01T00:00:00+00:00","UpdatedAt":"2026-11-30T00:00:00+00:00"}', 4070908800, 638685504000000000);
                """;
            cmd.ExecuteNonQuery();
        }
        await using var store = PolicyStore.OpenSqlite(path, NullLogger.Instance);
        Assert.Equal("t1", (await store.GetAsync("old.example", CancellationToken.None))?.TxtId);
        Assert.Equal(Core.Dane.DaneVerdict.DaneOnly, (await store.GetDaneAsync("old.example", CancellationToken.None))?.Verdict);
        Assert.Empty(Directory.GetFiles(_dir, "cache.db.corrupt-*"));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}

/// <summary>The daemon's container disposes the store, and so does GuardedPolicyStore around it: twice must be harmless.</summary>
public sealed class PolicyStoreDisposalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-dispose-").FullName;

    [Fact]
    public async Task Disposing_a_sqlite_store_twice_is_harmless()
    {
        var store = PolicyStore.OpenSqlite(Path.Combine(_dir, "cache.db"), NullLogger.Instance);
        await store.SetDaneAsync(new Core.Dane.DaneCacheEntry("a.example", Core.Dane.DaneVerdict.None, "r", false, DateTimeOffset.UtcNow.AddHours(1)),
            CancellationToken.None);
        await store.DisposeAsync();
        await store.DisposeAsync();
        var gate = new SqliteGate(new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:"));
        await gate.DisposeAsync();
        await gate.DisposeAsync();
        await using var reopened = PolicyStore.OpenSqlite(Path.Combine(_dir, "cache.db"), NullLogger.Instance);
        Assert.NotNull(await reopened.GetDaneAsync("a.example", CancellationToken.None));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
