using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Tests.Caching;

/// <summary>What the cache tools say Postfix gets now: from cache only while the daemon would answer from it.</summary>
public sealed class CacheItemTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly StsEngine Engine = new(new StsOptions());
    private static readonly RenderOptions Render = new();

    private static StsCacheEntry Sts(TimeSpan recheck) => new()
    {
        Domain = "a.test",
        Policy = StsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 86400\n"u8).Policy!,
        PolicyId = "1", FetchedAt = Now, PolicyExpiresAt = Now.AddDays(1), TxtId = "1", RecheckAt = Now + recheck, UpdatedAt = Now,
    };

    private static DaneCacheEntry Dane(DaneVerdict v, TimeSpan ttl) => new("a.test", v, "why", true, Now + ttl);

    [Fact]
    public void Fresh_entries_answer_from_cache_with_the_exact_reply()
    {
        var i = CacheItem.From("a.test", Dane(DaneVerdict.None, TimeSpan.FromMinutes(5)), Sts(TimeSpan.FromMinutes(5)), Engine, Render, Now, 3);
        Assert.Equal(CacheItem.FromCache, i.State);
        Assert.Equal("OK secure match=mx.a.test servername=hostname", i.Reply);
        var dane = CacheItem.From("a.test", Dane(DaneVerdict.DaneOnly, TimeSpan.FromMinutes(5)), null, Engine, Render, Now, 1);
        Assert.Equal("OK dane-only", dane.Reply);
    }

    [Theory]
    [InlineData(-1, 5)]   // DANE verdict expired
    [InlineData(5, -1)]   // MTA-STS state due for its TXT recheck: the next query looks up live
    public void Stale_entries_are_expired_with_no_reply(int daneMinutes, int recheckMinutes)
    {
        var i = CacheItem.From("a.test", Dane(DaneVerdict.None, TimeSpan.FromMinutes(daneMinutes)), Sts(TimeSpan.FromMinutes(recheckMinutes)),
            Engine, Render, Now, 0);
        Assert.Equal(CacheItem.Expired, i.State);
        Assert.Null(i.Reply);
        Assert.StartsWith("OK secure", i.Answer); // what the entries said, kept for `cache show`
    }

    [Fact]
    public void Missing_dane_state_is_not_shown_as_notfound()
    {
        // A DANE lookup that failed (TEMP) is not cached: the daemon resolves live, and may answer TEMP again.
        var i = CacheItem.From("a.test", null, null, Engine, Render, Now, 0);
        Assert.Equal(CacheItem.Expired, i.State);
        Assert.Null(i.Reply);
    }

    [Fact]
    public void Active_overrides_replace_the_cache_and_are_listed_alone()
    {
        var cached = CacheItem.From("a.test", Dane(DaneVerdict.DaneOnly, TimeSpan.FromMinutes(5)), null, Engine, Render, Now, 1);
        var items = CacheItem.WithOverrides([cached], new Dictionary<string, StaticOverride>
        {
            ["a.test"] = new("encrypt", Now.AddDays(1)),
            ["b.test"] = new("none", null),
            ["old.test"] = new("may", Now.AddDays(-1)),
        }, Now);
        Assert.Equal(["a.test", "b.test"], items.Select(i => i.Domain));
        Assert.All(items, i => Assert.Equal(CacheItem.FromOverride, i.State));
        Assert.Equal("OK encrypt", items[0].Reply);
        Assert.Equal(Now.AddDays(1), items[0].Expires);
        Assert.Equal("OK none", items[1].Reply);
    }
}
