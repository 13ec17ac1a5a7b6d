using System.Net;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Core.Policy;

namespace Portcullis.Tests.Dane;

public sealed class DaneDecisionTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly byte[] D32 = new byte[32];
    private static readonly byte[] D64 = new byte[64];

    private static DnsResult<T> R<T>(DnsStatus s, params T[] records) =>
        new(s, records, Hour, s is DnsStatus.Secure or DnsStatus.NxDomain or DnsStatus.NoData, s.ToString());

    public static TheoryData<byte, byte, byte, int, bool> TlsaCases => new()
    {
        { 3, 1, 1, 32, true }, { 2, 0, 1, 32, true }, { 3, 0, 2, 64, true }, { 2, 1, 0, 100, true },
        { 0, 0, 1, 32, false }, { 1, 1, 1, 32, false }, { 4, 1, 1, 32, false },
        { 3, 2, 1, 32, false }, { 3, 1, 9, 32, false },
        { 3, 1, 1, 31, false }, { 3, 1, 1, 64, false }, { 3, 1, 2, 32, false }, { 3, 1, 0, 0, false },
    };

    [Theory]
    [MemberData(nameof(TlsaCases))]
    public void Tlsa_usability(byte usage, byte selector, byte mtype, int length, bool usable)
    {
        string? why = TlsaUsability.WhyUnusable(new TlsaRecord(usage, selector, mtype, new byte[length]));
        Assert.Equal(usable, why is null);
    }

    [Theory]
    [InlineData(DnsStatus.ServFail, DaneVerdict.Temp)]
    [InlineData(DnsStatus.Timeout, DaneVerdict.Temp)]
    [InlineData(DnsStatus.NxDomain, DaneVerdict.None)]
    public void Mx_failures_and_nxdomain_are_final(DnsStatus status, DaneVerdict verdict)
    {
        var (hosts, _, final) = DaneDecision.ClassifyMx("example.test", R<MxRecord>(status));
        Assert.Empty(hosts);
        Assert.Equal(verdict, final!.Verdict);
    }

    [Fact]
    public void Secure_nodata_mx_means_the_domain_is_its_own_host()
    {
        var (hosts, secure, final) = DaneDecision.ClassifyMx("example.test", R<MxRecord>(DnsStatus.NoData));
        Assert.Null(final);
        Assert.True(secure);
        Assert.Equal(["example.test"], hosts);
    }

    [Fact]
    public void Insecure_nodata_mx_is_no_dane()
    {
        var mx = new DnsResult<MxRecord>(DnsStatus.NoData, [], Hour, false, "nodata");
        Assert.Equal(DaneVerdict.None, DaneDecision.ClassifyMx("example.test", mx).Final!.Verdict);
    }

    [Fact]
    public void Null_mx_is_final()
    {
        var (_, _, final) = DaneDecision.ClassifyMx("example.test", R(DnsStatus.Secure, new MxRecord(0, "")));
        Assert.Equal(DaneVerdict.NullMx, final!.Verdict);
    }

    [Fact]
    public void Mx_hosts_are_ordered_by_preference_and_deduplicated()
    {
        var (hosts, secure, final) = DaneDecision.ClassifyMx("example.test",
            R(DnsStatus.Insecure, new MxRecord(20, "b.test"), new MxRecord(10, "a.test"), new MxRecord(30, "a.test")));
        Assert.Null(final);
        Assert.False(secure);
        Assert.Equal(["a.test", "b.test"], hosts);
    }

    [Fact]
    public void Only_the_lowest_preference_hosts_up_to_the_cap_are_examined()
    {
        var records = Enumerable.Range(0, 1000).Select(i => new MxRecord((ushort)(1000 - i), $"mx{i}.test")).ToArray();
        var (hosts, secure, final) = DaneDecision.ClassifyMx("example.test", R(DnsStatus.Secure, records), maxHosts: 5);
        Assert.Null(final);
        Assert.True(secure);
        Assert.Equal(["mx999.test", "mx998.test", "mx997.test", "mx996.test", "mx995.test"], hosts);
        // A null MX anywhere is still seen, whatever the cap.
        var (_, _, nullMx) = DaneDecision.ClassifyMx("example.test", R(DnsStatus.Secure, [.. records, new MxRecord(2000, "")]), maxHosts: 5);
        Assert.Equal(DaneVerdict.NullMx, nullMx!.Verdict);
    }

    [Fact]
    public void Verdict_over_capped_hosts_says_how_many_were_not_examined()
    {
        var r = DaneDecision.Aggregate(true, Hour, null, [H(HostDane.Usable), H(HostDane.Usable)], true, skipped: 998);
        Assert.Equal(DaneVerdict.DaneOnly, r.Verdict);
        Assert.Equal(998, r.SkippedHosts);
        Assert.Contains("998 more not examined", r.Reason);
        // Never weaker than the examined hosts justify: one failure among them is still TEMP.
        Assert.Equal(DaneVerdict.Temp, DaneDecision.Aggregate(true, Hour, null, [H(HostDane.Usable), H(HostDane.Temp)], true, skipped: 998).Verdict);
    }

    [Fact]
    public void Insecure_address_means_no_tlsa_lookup()
    {
        var (final, bases) = DaneDecision.ClassifyAddress("mx.test", R(DnsStatus.Insecure, IPAddress.Loopback), R<IPAddress>(DnsStatus.NoData));
        Assert.Equal(HostDane.None, final!.Dane);
        Assert.Empty(bases);
    }

    [Fact]
    public void Both_address_families_failing_is_temp()
    {
        var (final, _) = DaneDecision.ClassifyAddress("mx.test", R<IPAddress>(DnsStatus.ServFail), R<IPAddress>(DnsStatus.Timeout));
        Assert.Equal(HostDane.Temp, final!.Dane);
    }

    [Fact]
    public void One_failing_family_beside_a_secure_one_still_looks_up_tlsa()
    {
        var (final, bases) = DaneDecision.ClassifyAddress("mx.test", R(DnsStatus.Secure, IPAddress.Loopback), R<IPAddress>(DnsStatus.ServFail));
        Assert.Null(final);
        Assert.Equal(["mx.test"], bases);
    }

    [Fact]
    public void Secure_cname_chain_tries_the_expanded_name_first()
    {
        var a = R(DnsStatus.Secure, IPAddress.Loopback) with { CanonicalName = "real.test" };
        var (final, bases) = DaneDecision.ClassifyAddress("alias.test", a, R<IPAddress>(DnsStatus.NoData));
        Assert.Null(final);
        Assert.Equal(["real.test", "alias.test"], bases);
    }

    [Theory]
    [InlineData(DnsStatus.ServFail, HostDane.Temp)]
    [InlineData(DnsStatus.Timeout, HostDane.Temp)]
    [InlineData(DnsStatus.Insecure, HostDane.None)]
    public void Tlsa_lookup_outcomes(DnsStatus status, HostDane expected)
    {
        var tlsa = R(status, new TlsaRecord(3, 1, 1, D32));
        Assert.Equal(expected, DaneDecision.ClassifyTlsa("mx.test", "_25._tcp.mx.test", tlsa, Hour, [])!.Dane);
    }

    [Theory]
    [InlineData(DnsStatus.NxDomain)]
    [InlineData(DnsStatus.NoData)]
    public void Missing_tlsa_moves_on_to_the_next_name(DnsStatus status) =>
        Assert.Null(DaneDecision.ClassifyTlsa("mx.test", "_25._tcp.mx.test", R<TlsaRecord>(status), Hour, []));

    [Fact]
    public void Secure_tlsa_with_only_unusable_records_still_requires_tls()
    {
        var tlsa = R(DnsStatus.Secure, new TlsaRecord(1, 1, 1, D32), new TlsaRecord(3, 1, 2, D32));
        var host = DaneDecision.ClassifyTlsa("mx.test", "_25._tcp.mx.test", tlsa, Hour, [])!;
        Assert.Equal(HostDane.Unusable, host.Dane);
        Assert.All(host.Tlsa, t => Assert.NotNull(t.Unusable));
    }

    private static HostEvidence H(HostDane d, int ttlSeconds = 3600) => new("h", d, d.ToString(), TimeSpan.FromSeconds(ttlSeconds));

    public static TheoryData<bool, bool, HostDane[], DaneVerdict> AggregateCases => new()
    {
        { true, true, [HostDane.Usable], DaneVerdict.DaneOnly },
        { true, true, [HostDane.Usable, HostDane.Usable], DaneVerdict.DaneOnly },
        { true, true, [HostDane.Usable, HostDane.None], DaneVerdict.Dane },
        { true, true, [HostDane.Usable, HostDane.Unusable], DaneVerdict.Dane },
        { true, true, [HostDane.Unusable], DaneVerdict.Dane },
        { true, true, [HostDane.None, HostDane.None], DaneVerdict.None },
        { true, true, [HostDane.Usable, HostDane.Temp], DaneVerdict.Temp },
        { false, true, [HostDane.Usable], DaneVerdict.Dane },          // insecure MX: at most dane
        { false, true, [HostDane.None], DaneVerdict.None },
        { true, false, [HostDane.Usable], DaneVerdict.Dane },          // resolver not validating: never dane-only
    };

    [Theory]
    [MemberData(nameof(AggregateCases))]
    public void Aggregate(bool mxSecure, bool validates, HostDane[] hosts, DaneVerdict expected) =>
        Assert.Equal(expected, DaneDecision.Aggregate(mxSecure, Hour, null, [.. hosts.Select(h => H(h))], validates).Verdict);

    [Fact]
    public void Verdict_ttl_is_the_minimum_with_a_floor()
    {
        Assert.Equal(TimeSpan.FromSeconds(300),
            DaneDecision.Aggregate(true, Hour, null, [H(HostDane.Usable, 300), H(HostDane.Usable, 900)], true).Ttl);
        Assert.Equal(DaneDecision.MinTtl, DaneDecision.Aggregate(true, Hour, null, [H(HostDane.Usable, 5)], true).Ttl);
        Assert.Equal(TimeSpan.Zero, DaneDecision.Aggregate(true, Hour, null, [H(HostDane.Temp)], true).Ttl);
    }

    [Fact]
    public void Combination_puts_dane_first()
    {
        var sts = new PolicyAnswer(Verdict.StsEnforce, "sts") { Domain = "example.test" };
        PolicyAnswer C(DaneVerdict v) => PolicyCombiner.Combine(new DaneResult(v, v.ToString(), Hour), sts);
        Assert.Equal(Verdict.DaneOnly, C(DaneVerdict.DaneOnly).Verdict);
        Assert.Equal(Verdict.Dane, C(DaneVerdict.Dane).Verdict);
        Assert.Equal(Verdict.Temp, C(DaneVerdict.Temp).Verdict);
        Assert.Equal(Verdict.NoPolicy, C(DaneVerdict.NullMx).Verdict);
        Assert.Equal(Verdict.StsEnforce, C(DaneVerdict.None).Verdict);
    }
}
