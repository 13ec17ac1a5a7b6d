using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Caching;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Refresh;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Resolution;
using Portcullis.Hosting.Jobs;

namespace Portcullis.Tests.Refresh;

/// <summary>Proactive refresh driven by a fake clock: no sleeping, every lookup counted.</summary>
public sealed class RefreshTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CountingDns _dns = new();
    private readonly CountingFetcher _fetcher = new();
    private readonly PortcullisMetrics _metrics = new();
    private readonly PolicyResolver _resolver;
    private readonly RefreshService _refresh;
    private readonly CancellationToken _ct = CancellationToken.None;

    public RefreshTests()
    {
        var health = new ResolverHealth(_dns, _time, NullLogger<ResolverHealth>.Instance);
        var memory = new PolicyMemory();
        var store = new Portcullis.Storage.GuardedPolicyStore(Portcullis.Storage.PolicyStore.InMemory(), _time,
            NullLogger<Portcullis.Storage.GuardedPolicyStore>.Instance, _metrics);
        _resolver = new PolicyResolver(_dns, _fetcher, store, memory, new StsEngine(new StsOptions()),
            new DaneResolver(_dns, TimeSpan.FromSeconds(10)), health, _time, NullLogger<PolicyResolver>.Instance);
        _refresh = new RefreshService(_resolver, memory, RefreshOptions.Default, _time, _metrics, NullLogger<RefreshService>.Instance);
    }

    private async Task<Verdict> AskAsync() => (await _resolver.ResolveAsync("a.test", _ct)).Answer.Verdict;

    private async Task AdvanceAndRefreshAsync(TimeSpan by)
    {
        _time.Advance(by);
        await _refresh.RunOnceAsync(_ct);
    }

    [Fact]
    public async Task Policies_are_refreshed_before_expiry_without_queries_and_stop_when_idle()
    {
        Assert.Equal(Verdict.StsEnforce, await AskAsync());
        Assert.Equal((1, 1), (_dns.Txt, _fetcher.Fetches));

        await AdvanceAndRefreshAsync(TimeSpan.FromMinutes(30));
        Assert.Equal((1, 1), (_dns.Txt, _fetcher.Fetches)); // nothing due yet

        // max_age and TXT TTL are one hour: the refresh comes inside the last five minutes.
        await AdvanceAndRefreshAsync(TimeSpan.FromMinutes(28));
        Assert.Equal((2, 2), (_dns.Txt, _fetcher.Fetches));

        // The query at expiry time is answered from memory: Postfix never waits.
        _time.Advance(TimeSpan.FromMinutes(3));
        var r = await _resolver.ResolveAsync("a.test", _ct);
        Assert.True(r.FromCache);
        Assert.Equal(Verdict.StsEnforce, r.Answer.Verdict);

        // No more queries: hourly policies are refreshed for a day (idle_after), then no longer.
        for (int i = 0; i < 30 * 48; i++)
            await AdvanceAndRefreshAsync(TimeSpan.FromMinutes(2));
        int afterTwoDays = _fetcher.Fetches;
        for (int i = 0; i < 30 * 24; i++)
            await AdvanceAndRefreshAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(afterTwoDays, _fetcher.Fetches);
        Assert.InRange(afterTwoDays, 2 + 23, 2 + 25);
    }

    [Fact]
    public async Task Failed_refreshes_back_off_and_keep_the_valid_policy()
    {
        Assert.Equal(Verdict.StsEnforce, await AskAsync());
        _fetcher.Fail = true;
        _time.Advance(TimeSpan.FromMinutes(58));
        await _refresh.RunOnceAsync(_ct);
        Assert.Equal(2, _fetcher.Fetches);
        Assert.Equal(Verdict.StsEnforce, _resolver.CachedVerdict("a.test")); // still the valid cached policy

        // The next rounds inside the back-off (and the engine's 5-minute retry rule) fetch nothing.
        await AdvanceAndRefreshAsync(TimeSpan.FromSeconds(30));
        await AdvanceAndRefreshAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, _fetcher.Fetches);
        Assert.Equal(Verdict.StsEnforce, await AskAsync());
    }

    [Fact]
    public void Planner_skips_idle_and_backed_off_domains_and_spreads_the_rest()
    {
        var now = _time.GetUtcNow();
        var o = RefreshOptions.Default;
        RefreshCandidate C(string d, TimeSpan lastAgo, TimeSpan? dueIn, TimeSpan? notBeforeIn = null) =>
            new(d, now - lastAgo, dueIn is { } t ? now + t : null, notBeforeIn is { } n ? now + n : DateTimeOffset.MinValue);
        var due = RefreshPlanner.DueNow(
        [
            C("due.test", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)),
            C("later.test", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(30)),
            C("idle.test", TimeSpan.FromDays(2), TimeSpan.FromMinutes(1)),
            C("backoff.test", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)),
            C("nothing.test", TimeSpan.FromMinutes(1), null),
        ], now, o);
        Assert.Equal(["due.test"], due);
        Assert.InRange(RefreshPlanner.Jitter("x.test", TimeSpan.FromMinutes(2)), TimeSpan.Zero, TimeSpan.FromMinutes(2));
        Assert.Equal(RefreshPlanner.Jitter("x.test", TimeSpan.FromMinutes(2)), RefreshPlanner.Jitter("x.test", TimeSpan.FromMinutes(2)));
        Assert.Equal([30, 60, 120, 240, 480, 600, 600], Enumerable.Range(1, 7).Select(n => RefreshPlanner.Backoff(n, o.MaxBackoff).TotalSeconds));
    }

    public void Dispose() => _metrics.Dispose();

    /// <summary>A domain with no MX (NXDOMAIN, so no DANE) and an MTA-STS record; counts TXT queries.</summary>
    private sealed class CountingDns : IDnsResolver
    {
        private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
        public int Txt;

        private static DnsResult<T> None<T>() => new(DnsStatus.NxDomain, [], Hour, true, "nxdomain");

        public Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct)
        {
            Interlocked.Increment(ref Txt);
            return Task.FromResult(new DnsResult<IReadOnlyList<string>>(DnsStatus.Insecure, [["v=STSv1; id=1"]], Hour, false, "txt"));
        }

        public Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct) => Task.FromResult(None<IPAddress>());
        public Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct) => Task.FromResult(None<IPAddress>());
        public Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct) => Task.FromResult(None<IPAddress>());
        public Task<DnsResult<MxRecord>> QueryMxAsync(string domain, CancellationToken ct) => Task.FromResult(None<MxRecord>());
        public Task<DnsResult<TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct) => Task.FromResult(None<TlsaRecord>());
        public Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct) =>
            Task.FromResult(new DnsResult<string>(DnsStatus.Secure, ["a.root-servers.net"], Hour, true, "soa"));
    }

    private sealed class CountingFetcher : IPolicyFetcher
    {
        public int Fetches;
        public bool Fail;

        public Task<FetchReport> FetchAsync(string domain, CancellationToken ct)
        {
            Interlocked.Increment(ref Fetches);
            var outcome = Fail
                ? FetchOutcome.Failed(StsFailureType.FetchError, "HTTP 500")
                : FetchOutcome.Ok(StsPolicyParser.Parse(Encoding.ASCII.GetBytes("version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 3600\n")).Policy!, "ok");
            return Task.FromResult(new FetchReport(outcome, "https://mta-sts." + domain, 200, "text/plain", 60, null, TimeSpan.Zero));
        }
    }
}
