using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using Xunit;

namespace Portcullis.Tests.Dane;

/// <summary>
/// A verdict never rests on a resolver that cannot prove it validates (attack run F8: after a
/// resolver outage dane-only domains were answered "dane" for minutes and cached for hours).
/// </summary>
public sealed class ResolverTrustTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static DaneResult R(DaneVerdict v, bool mxSecure = true, bool tlsa = false) => new(v, "lookups", v == DaneVerdict.Temp ? TimeSpan.Zero : Hour)
    {
        MxSecure = mxSecure,
        Hosts = tlsa ? [new HostEvidence("mx.a.test", HostDane.Usable, "tlsa", Hour) { Tlsa = [(new TlsaRecord(3, 1, 1, new byte[32]), null)] }] : [],
    };

    public static TheoryData<ResolverTrust, DaneResult, DaneVerdict> Cases => new()
    {
        // A passing self-test leaves every verdict as the lookups made it.
        { ResolverTrust.Validating, R(DaneVerdict.DaneOnly, tlsa: true), DaneVerdict.DaneOnly },
        { ResolverTrust.Validating, R(DaneVerdict.Dane, tlsa: true), DaneVerdict.Dane },
        { ResolverTrust.Validating, R(DaneVerdict.None), DaneVerdict.None },
        { ResolverTrust.Validating, R(DaneVerdict.NullMx), DaneVerdict.NullMx },
        { ResolverTrust.Validating, R(DaneVerdict.Temp), DaneVerdict.Temp },
        // Unproven (outage, start before the resolver, validation lost): every state is unknown.
        { ResolverTrust.Unproven, R(DaneVerdict.DaneOnly, tlsa: true), DaneVerdict.Temp },
        { ResolverTrust.Unproven, R(DaneVerdict.Dane, tlsa: true), DaneVerdict.Temp },
        { ResolverTrust.Unproven, R(DaneVerdict.None, mxSecure: false), DaneVerdict.Temp },
        { ResolverTrust.Unproven, R(DaneVerdict.NullMx, mxSecure: false), DaneVerdict.Temp },
        { ResolverTrust.Unproven, R(DaneVerdict.Temp), DaneVerdict.Temp },
        // Never validated: unsigned answers mean no DANE; signed answers contradict the self-test.
        { ResolverTrust.NotValidating, R(DaneVerdict.None, mxSecure: false), DaneVerdict.None },
        { ResolverTrust.NotValidating, R(DaneVerdict.NullMx, mxSecure: false), DaneVerdict.NullMx },
        { ResolverTrust.NotValidating, R(DaneVerdict.Dane, mxSecure: false, tlsa: true), DaneVerdict.Temp },
        { ResolverTrust.NotValidating, R(DaneVerdict.None, mxSecure: true), DaneVerdict.Temp },
        { ResolverTrust.NotValidating, R(DaneVerdict.Temp), DaneVerdict.Temp },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_verdict_stands_only_as_far_as_the_self_test_allows(ResolverTrust trust, DaneResult result, DaneVerdict expected)
    {
        var r = DaneDecision.UnderTrust(result, trust);
        Assert.Equal(expected, r.Verdict);
        if (r.Verdict == DaneVerdict.Temp)
            Assert.Equal(TimeSpan.Zero, r.Ttl); // TEMP is never cached
    }

    [Fact]
    public async Task A_failing_self_test_is_rerun_by_the_next_lookup_and_a_recovered_resolver_is_trusted_at_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var dns = new SoaDns { Status = DnsStatus.Timeout };
        var health = new ResolverHealth(dns, time, NullLogger<ResolverHealth>.Instance);

        Assert.Equal(ResolverTrust.Unproven, (await health.CheckAsync(default)).Trust);
        Assert.Equal(1, dns.Queries);

        // Within the recheck interval the result stands (no query per lookup during an outage).
        dns.Status = DnsStatus.Secure;
        Assert.Equal(ResolverTrust.Unproven, await health.TrustAsync(default));
        Assert.Equal(1, dns.Queries);

        // After it, the next lookup re-runs the test: the resolver is trusted again, not 5 minutes later.
        time.Advance(ResolverHealth.RecheckInterval);
        Assert.Equal(ResolverTrust.Validating, await health.TrustAsync(default));
        Assert.Equal(2, dns.Queries);

        // While it passes, lookups cost no self-test query.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ResolverTrust.Validating, await health.TrustAsync(default));
        Assert.Equal(2, dns.Queries);
    }

    [Fact]
    public async Task A_resolver_that_stops_validating_is_unproven_and_one_that_never_did_is_not_validating()
    {
        var time = new FakeTimeProvider();
        var dns = new SoaDns { Status = DnsStatus.Insecure };
        var health = new ResolverHealth(dns, time, NullLogger<ResolverHealth>.Instance);
        Assert.Equal(ResolverTrust.NotValidating, (await health.CheckAsync(default)).Trust);

        dns.Status = DnsStatus.Secure;
        Assert.Equal(ResolverTrust.Validating, (await health.CheckAsync(default)).Trust);

        // AD bits lost after validating (an on-path stripper, a resolver restarted without its anchor).
        dns.Status = DnsStatus.Insecure;
        Assert.Equal(ResolverTrust.Unproven, (await health.CheckAsync(default)).Trust);
        dns.Status = DnsStatus.ServFail;
        Assert.Equal(ResolverTrust.Unproven, (await health.CheckAsync(default)).Trust);
    }

    [Fact]
    public async Task Concurrent_lookups_share_one_self_test()
    {
        var dns = new SoaDns { Status = DnsStatus.Secure, Gate = new TaskCompletionSource() };
        var health = new ResolverHealth(dns, new FakeTimeProvider(), NullLogger<ResolverHealth>.Instance);
        var waits = Enumerable.Range(0, 20).Select(_ => health.TrustAsync(default).AsTask()).ToList();
        dns.Gate.SetResult();
        Assert.All(await Task.WhenAll(waits), t => Assert.Equal(ResolverTrust.Validating, t));
        Assert.Equal(1, dns.Queries);
    }

    private sealed class SoaDns : IDnsResolver
    {
        private int _queries;
        public DnsStatus Status { get; set; }
        public TaskCompletionSource? Gate { get; init; }
        public int Queries => Volatile.Read(ref _queries);

        public async Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct)
        {
            Interlocked.Increment(ref _queries);
            if (Gate is not null)
                await Gate.Task;
            bool ok = Status is DnsStatus.Secure or DnsStatus.Insecure;
            return new DnsResult<string>(Status, ok ? ["a.root-servers.test"] : [], Hour, Status == DnsStatus.Secure, $". SOA: {Status}");
        }

        public Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<MxRecord>> QueryMxAsync(string domain, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct) => throw new NotSupportedException();
    }
}
