using System.Buffers;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Protocol;
using Portcullis.Dns;
using Portcullis.Hosting.Socketmap;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Resolution;
using Portcullis.Storage;
using Xunit;

namespace Portcullis.Tests.Hosting;

/// <summary>The allocation-free path answers exactly as the full path, and only while memory may answer.</summary>
public sealed class CachedReplyTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Portcullis.Storage.PolicyStore _store = Portcullis.Storage.PolicyStore.InMemory();
    private readonly PortcullisMetrics _metrics = new();
    private readonly PolicyCacheAdmin _cache;
    private readonly SocketmapService _service;

    public CachedReplyTests()
    {
        // Nothing here is ever asked: every entry comes from the store.
        var dns = new DnsClientResolver(new IPEndPoint(IPAddress.Loopback, 9), TimeSpan.FromMilliseconds(100), 1);
        var memory = new PolicyMemory();
        var engine = new StsEngine(new StsOptions());
        var guarded = new GuardedPolicyStore(_store, _time, NullLogger<GuardedPolicyStore>.Instance, _metrics);
        var resolver = new PolicyResolver(dns, new PolicyFetcher(dns, new FetchLimits(), _time), guarded, memory, engine,
            new DaneResolver(dns, TimeSpan.FromSeconds(1)), new ResolverHealth(dns, _time, NullLogger<ResolverHealth>.Instance),
            _time, NullLogger<PolicyResolver>.Instance);
        _cache = new PolicyCacheAdmin(memory, guarded, engine, _time, NullLogger<PolicyCacheAdmin>.Instance);
        var config = new PortcullisConfig();
        config.Overrides["pinned.test"] = new OverrideConfig { Policy = "encrypt" };
        _service = new SocketmapService(resolver, new ReplyCache(memory, engine, _time), new LiveSettings(new Settings(config), null, NullLogger<LiveSettings>.Instance),
            _metrics, _time, NullLogger<SocketmapService>.Instance);
    }

    public void Dispose() => _metrics.Dispose();

    private async Task CacheStsAsync(string domain, TimeSpan recheck)
    {
        var now = _time.GetUtcNow();
        var policy = StsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mx.a.test\nmx: *.b.test\nmax_age: 86400\n"u8).Policy!;
        await _store.SetDaneAsync(new DaneCacheEntry(domain, DaneVerdict.None, "no TLSA", true, now.AddHours(1)) { UpdatedAt = now }, CancellationToken.None);
        await _store.SetAsync(new StsCacheEntry
        {
            Domain = domain, Policy = policy, PolicyId = "1", FetchedAt = now, PolicyExpiresAt = now.AddDays(1),
            TxtId = "1", TxtRecord = "v=STSv1; id=1", RecheckAt = now + recheck, UpdatedAt = now,
        }, CancellationToken.None);
    }

    private string? Hot(string payload)
    {
        var output = new ArrayBufferWriter<byte>();
        return _service.TryAnswerFromMemory(Encoding.ASCII.GetBytes(payload), output) ? Encoding.ASCII.GetString(output.WrittenSpan) : null;
    }

    private async Task<string> FullAsync(string map, string key)
    {
        var output = new ArrayBufferWriter<byte>();
        (await _service.HandleAsync(new SocketmapRequest(map, key), CancellationToken.None)).WriteTo(output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData("QUERY")]
    [InlineData("QUERYwithTLSRPT")]
    [InlineData("querywithtlsrpt")]
    public async Task Answers_as_the_full_path_once_memory_holds_the_domain(string map)
    {
        await CacheStsAsync("a.test", TimeSpan.FromHours(1));
        Assert.Null(Hot($"{map} a.test")); // not in memory yet: the full path loads it
        string full = await FullAsync(map, "a.test");
        Assert.StartsWith("OK secure match=mx.a.test:.b.test", full[(full.IndexOf(':') + 1)..], StringComparison.Ordinal);
        Assert.Equal(full, Hot($"{map} a.test"));
        Assert.Equal(full, Hot($"{map} a.test")); // the rendered reply is reused
    }

    [Theory]
    [InlineData("QUERY A.test")]          // upper case: the full path lower-cases it
    [InlineData("QUERY a.test.")]         // trailing root dot
    [InlineData("QUERY a.test:25")]       // next-hop with port
    [InlineData("QUERY [a.test]")]        // bracketed next hop
    [InlineData("QUERY .a.test")]         // parent-domain retry: never answered from a.test's entry
    [InlineData("NOSUCHMAP a.test")]
    [InlineData("QUERY pinned.test")]     // an override wins over the cache
    public async Task Leaves_everything_else_to_the_full_path(string payload)
    {
        await CacheStsAsync("a.test", TimeSpan.FromHours(1));
        await CacheStsAsync("pinned.test", TimeSpan.FromHours(1));
        await FullAsync("QUERY", "a.test");
        await FullAsync("QUERY", "pinned.test");
        Assert.Null(Hot(payload));
    }

    [Fact]
    public async Task Stops_when_the_entry_expires_or_is_purged()
    {
        await CacheStsAsync("a.test", TimeSpan.FromMinutes(5));
        await FullAsync("QUERY", "a.test");
        Assert.NotNull(Hot("QUERY a.test"));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(Hot("QUERY a.test")); // recheck due: the full path must look again

        await CacheStsAsync("b.test", TimeSpan.FromHours(1));
        await FullAsync("QUERY", "b.test");
        Assert.NotNull(Hot("QUERY b.test"));
        await _cache.PurgeAsync("b.test", CancellationToken.None);
        Assert.Null(Hot("QUERY b.test"));
    }

    [Fact]
    public async Task Counts_hits_like_the_full_path()
    {
        await CacheStsAsync("a.test", TimeSpan.FromHours(1));
        await FullAsync("QUERY", "a.test");
        Hot("QUERY a.test");
        Hot("QUERYwithTLSRPT a.test");
        var item = Assert.Single(await _cache.ListAsync(Core.Policy.RenderOptions.Default, CancellationToken.None));
        Assert.Equal(3, item.Hits);
    }
}
