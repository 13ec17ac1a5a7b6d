using System.Collections.Concurrent;
using System.Net;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using Portcullis.Resolution;
using Xunit;

namespace Portcullis.Tests.Resolution;

/// <summary>
/// The host's TLSA name is asked alongside its addresses under a signed MX; the verdicts must be
/// those of the strict sequence (addresses first, the CNAME target's TLSA before the alias's).
/// </summary>
public sealed class DaneResolverTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TlsaRecord Usable = new(3, 1, 1, new byte[32]);

    [Fact]
    public async Task Signed_mx_with_usable_tlsa_is_dane_only_and_asks_tlsa_once()
    {
        var dns = new ScriptedDns { Mx = Secure(new MxRecord(10, "mx.a.test")) };
        dns.Tlsa["_25._tcp.mx.a.test"] = Secure(Usable);
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.DaneOnly, r.Verdict);
        Assert.Equal(1, dns.TlsaQueries("_25._tcp.mx.a.test"));
    }

    [Fact]
    public async Task Insecure_address_ignores_tlsa_even_when_asked_early()
    {
        var dns = new ScriptedDns { Mx = Secure(new MxRecord(10, "mx.a.test")), AddressStatus = DnsStatus.Insecure };
        dns.Tlsa["_25._tcp.mx.a.test"] = Secure(Usable);
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.None, r.Verdict);
        Assert.Contains("not DNSSEC-signed", r.Hosts[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cname_target_tlsa_is_looked_up_first_and_decides()
    {
        var dns = new ScriptedDns { Mx = Secure(new MxRecord(10, "mx.a.test")), Canonical = "real.b.test" };
        dns.Tlsa["_25._tcp.real.b.test"] = Secure(Usable);
        dns.Tlsa["_25._tcp.mx.a.test"] = Secure(new TlsaRecord(3, 1, 1, new byte[31])); // unusable: must not decide
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.DaneOnly, r.Verdict);
        Assert.Equal("_25._tcp.real.b.test", r.Hosts[0].TlsaName);
    }

    [Fact]
    public async Task Cname_alias_tlsa_applies_when_the_target_has_none()
    {
        var dns = new ScriptedDns { Mx = Secure(new MxRecord(10, "mx.a.test")), Canonical = "real.b.test" };
        dns.Tlsa["_25._tcp.mx.a.test"] = Secure(Usable);
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.DaneOnly, r.Verdict);
        Assert.Equal("_25._tcp.mx.a.test", r.Hosts[0].TlsaName);
        Assert.Equal(1, dns.TlsaQueries("_25._tcp.mx.a.test"));
    }

    [Fact]
    public async Task Unsigned_mx_asks_no_tlsa_before_the_addresses_are_known()
    {
        var dns = new ScriptedDns { Mx = new DnsResult<MxRecord>(DnsStatus.Insecure, [new MxRecord(10, "mx.a.test")], Hour, false, "mx"), AddressStatus = DnsStatus.Insecure };
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.None, r.Verdict);
        Assert.Equal(0, dns.TlsaQueries("_25._tcp.mx.a.test"));
    }

    [Fact]
    public async Task Failed_early_tlsa_lookup_is_a_temporary_failure()
    {
        var dns = new ScriptedDns { Mx = Secure(new MxRecord(10, "mx.a.test")) };
        dns.Tlsa["_25._tcp.mx.a.test"] = new DnsResult<TlsaRecord>(DnsStatus.ServFail, [], TimeSpan.Zero, false, "servfail");
        var r = await new DaneResolver(dns, TimeSpan.FromSeconds(5)).ResolveAsync("a.test", Portcullis.Core.Dns.ResolverTrust.Validating, null, CancellationToken.None);
        Assert.Equal(DaneVerdict.Temp, r.Verdict);
    }

    private static DnsResult<T> Secure<T>(params T[] records) => new(DnsStatus.Secure, records, Hour, true, "secure");

    private sealed class ScriptedDns : IDnsResolver
    {
        private readonly ConcurrentDictionary<string, int> _tlsaQueries = new(StringComparer.Ordinal);
        public DnsResult<MxRecord> Mx { get; init; } = null!;
        public DnsStatus AddressStatus { get; init; } = DnsStatus.Secure;
        public string? Canonical { get; init; }
        public Dictionary<string, DnsResult<TlsaRecord>> Tlsa { get; } = new(StringComparer.Ordinal);

        public int TlsaQueries(string name) => _tlsaQueries.GetValueOrDefault(name);

        public Task<DnsResult<MxRecord>> QueryMxAsync(string domain, CancellationToken ct) => Task.FromResult(Mx);

        public Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct) =>
            Task.FromResult(new DnsResult<IPAddress>(AddressStatus, [IPAddress.Parse("192.0.2.1")], Hour, AddressStatus == DnsStatus.Secure, "a")
            { CanonicalName = Canonical ?? host });

        public Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct) =>
            Task.FromResult(new DnsResult<IPAddress>(DnsStatus.NoData, [], Hour, true, "aaaa") { CanonicalName = Canonical ?? host });

        public async Task<DnsResult<TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct)
        {
            _tlsaQueries.AddOrUpdate(name, 1, static (_, n) => n + 1);
            await Task.Yield(); // answers arrive later than the call, as over a network
            return Tlsa.TryGetValue(name, out var r) ? r : new DnsResult<TlsaRecord>(DnsStatus.NoData, [], Hour, true, "no tlsa");
        }

        public Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct) => throw new NotSupportedException();
        public Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct) => throw new NotSupportedException();
    }
}
