using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Storage;

namespace Portcullis.Tests.Storage;

/// <summary>
/// The rules every cache backend keeps, run over each of them: Memory and SQLite here, Redis and PostgreSQL
/// in the integration tests (this file is compiled there too, against the real servers). Each test opens
/// a fresh, empty store. Times are real (Redis expires by its own clock).
/// </summary>
public abstract class PolicyStoreContract
{
    protected readonly CancellationToken Ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    /// <summary>A new, empty backend (its own file, key prefix or table prefix).</summary>
    protected abstract IEntryStore OpenEmpty();

    /// <summary>True for backends that drop expired entries themselves (DeleteExpired then finds nothing).</summary>
    protected virtual bool ExpiresItself => false;

    private PolicyStore Open() => new(OpenEmpty());

    private static StsCacheEntry Sts(string domain, string id, DateTimeOffset updated, TimeSpan? life = null) => new()
    {
        Domain = domain, TxtId = id, TxtRecord = "v=STSv1; id=" + id, RecheckAt = updated + (life ?? TimeSpan.FromHours(1)),
        UpdatedAt = updated, Reason = "test " + id,
    };

    private static DaneCacheEntry Dane(string domain, string reason, DateTimeOffset updated, TimeSpan? life = null) =>
        new(domain, DaneVerdict.DaneOnly, reason, true, updated + (life ?? TimeSpan.FromMinutes(30))) { UpdatedAt = updated };

    [Fact]
    public async Task A_domain_never_stored_is_a_miss()
    {
        await using var store = Open();
        Assert.Null(await store.GetAsync("none.example", Ct));
        Assert.Null(await store.GetDaneAsync("none.example", Ct));
        Assert.Empty(await store.ListAsync(Ct));
        Assert.Empty(await store.ListDaneAsync(Ct));
    }

    [Fact]
    public async Task Both_kinds_round_trip_separately_for_one_domain()
    {
        await using var store = Open();
        var sts = Sts("a.example", "s1", Now);
        var dane = Dane("a.example", "tlsa ok", Now);
        await store.SetAsync(sts, Ct);
        await store.SetDaneAsync(dane, Ct);
        Assert.Equal(CacheEntryJson.Serialize(sts), CacheEntryJson.Serialize((await store.GetAsync("a.example", Ct))!));
        Assert.Equal(dane, await store.GetDaneAsync("a.example", Ct));
        Assert.Single(await store.ListAsync(Ct));
        Assert.Single(await store.ListDaneAsync(Ct));
    }

    [Fact]
    public async Task An_older_write_never_replaces_a_newer_one_and_an_equal_or_newer_one_does()
    {
        await using var store = Open();
        await store.SetAsync(Sts("a.example", "new", Now), Ct);
        await store.SetAsync(Sts("a.example", "old", Now.AddSeconds(-10)), Ct); // a slower writer, older result
        Assert.Equal("new", (await store.GetAsync("a.example", Ct))!.TxtId);
        await store.SetAsync(Sts("a.example", "same", Now), Ct);
        Assert.Equal("same", (await store.GetAsync("a.example", Ct))!.TxtId);
        await store.SetAsync(Sts("a.example", "newer", Now.AddSeconds(1)), Ct);
        Assert.Equal("newer", (await store.GetAsync("a.example", Ct))!.TxtId);

        await store.SetDaneAsync(Dane("a.example", "new", Now), Ct);
        await store.SetDaneAsync(Dane("a.example", "old", Now.AddSeconds(-10)), Ct);
        Assert.Equal("new", (await store.GetDaneAsync("a.example", Ct))!.Reason);
    }

    [Fact]
    public async Task Concurrent_writers_leave_the_newest_entry()
    {
        await using var store = Open();
        var versions = Enumerable.Range(0, 24).OrderBy(_ => Random.Shared.Next()).ToList();
        await Task.WhenAll(versions.Select(v => Task.Run(() => store.SetAsync(Sts("race.example", $"v{v}", Now.AddSeconds(v)), Ct))));
        Assert.Equal("v23", (await store.GetAsync("race.example", Ct))!.TxtId);
    }

    [Fact]
    public async Task Lists_hold_one_kind_each_ordered_by_domain()
    {
        await using var store = Open();
        foreach (string d in new[] { "c.example", "a.example", "b-x.example", "b.example" })
            await store.SetAsync(Sts(d, "1", Now), Ct);
        await store.SetDaneAsync(Dane("z.example", "r", Now), Ct);
        Assert.Equal(["a.example", "b-x.example", "b.example", "c.example"], (await store.ListAsync(Ct)).Select(e => e.Domain));
        Assert.Equal(["z.example"], (await store.ListDaneAsync(Ct)).Select(e => e.Domain));
    }

    [Fact]
    public async Task Purging_a_domain_removes_both_kinds_and_purging_all_counts_the_rest()
    {
        await using var store = Open();
        await store.SetAsync(Sts("a.example", "1", Now), Ct);
        await store.SetDaneAsync(Dane("a.example", "r", Now), Ct);
        await store.SetAsync(Sts("b.example", "1", Now), Ct);
        await store.SetDaneAsync(Dane("c.example", "r", Now), Ct);
        Assert.Equal(2, await store.PurgeAsync("a.example", Ct));
        Assert.Null(await store.GetAsync("a.example", Ct));
        Assert.Null(await store.GetDaneAsync("a.example", Ct));
        Assert.Equal(0, await store.PurgeAsync("a.example", Ct));
        Assert.Equal(2, await store.PurgeAsync(null, Ct));
        Assert.Empty(await store.ListAsync(Ct));
        Assert.Empty(await store.ListDaneAsync(Ct));
    }

    [Fact]
    public async Task Deleting_expired_entries_keeps_the_ones_still_useful()
    {
        await using var store = Open();
        var past = Now.AddHours(-2);
        await store.SetAsync(Sts("old.example", "1", past, TimeSpan.FromMinutes(1)), Ct);
        await store.SetDaneAsync(Dane("old.example", "r", past, TimeSpan.FromMinutes(1)), Ct);
        await store.SetAsync(Sts("live.example", "1", Now), Ct);
        await store.SetDaneAsync(Dane("live.example", "r", Now), Ct);
        Assert.Equal(ExpiresItself ? 0 : 2, await store.DeleteExpiredAsync(Now, Ct));
        Assert.Null(await store.GetAsync("old.example", Ct));
        Assert.Null(await store.GetDaneAsync("old.example", Ct));
        Assert.NotNull(await store.GetAsync("live.example", Ct));
        Assert.NotNull(await store.GetDaneAsync("live.example", Ct));
    }

    [Fact]
    public async Task An_entry_this_version_cannot_read_is_a_miss_not_an_error()
    {
        await using var store = Open();
        await store.Entries.UpsertIfNewerAsync(EntryKind.Sts, "bad.example", "{\"Domain\": 42", Now.AddHours(1), Now, Ct);
        await store.Entries.UpsertIfNewerAsync(EntryKind.Dane, "bad.example", "[]", Now.AddHours(1), Now, Ct);
        await store.SetAsync(Sts("good.example", "1", Now), Ct);
        Assert.Null(await store.GetAsync("bad.example", Ct));
        Assert.Null(await store.GetDaneAsync("bad.example", Ct));
        Assert.Equal(["good.example"], (await store.ListAsync(Ct)).Select(e => e.Domain));
        Assert.Empty(await store.ListDaneAsync(Ct));
    }
}
