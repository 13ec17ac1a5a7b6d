using Xunit.Abstractions;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.WorldSmoke;

public sealed class SmokeDnsWorldFixture : IAsyncLifetime
{
    public DnsWorld World { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var w = new DnsWorldBuilder();
        w.Zone("signed.test").Mx("mx").A("mx").MtaSts("20240101").A("mta-sts")
            .Tlsa("_25._tcp.mx", 3, 1, 1, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        w.Zone("unsigned.test", signed: false).Mx("mx").A("mx");
        w.Zone("bogus.test", bogusDs: true).Mx("mx").A("mx");
        w.Zone("expired.test", expiredSignatures: true).Mx("mx").A("mx");
        w.Zone("deep.signed.test").A("mx").Cname("alias", "mx.signed.test.");
        w.Zone("sub.example").A("www"); // TLD other than test., delegated straight from the root
        World = await w.StartAsync();
    }

    public async Task DisposeAsync() => await World.DisposeAsync();
}

public sealed class DnsWorldSmokeTests(SmokeDnsWorldFixture fixture, ITestOutputHelper output) : IClassFixture<SmokeDnsWorldFixture>
{
    private DnsWorld World => fixture.World;

    [Fact]
    public void Reports_start_time()
    {
        output.WriteLine($"DNS world (8 zones) started in {World.StartTime.TotalMilliseconds:F0} ms; resolver {World.ResolverEndpoint}, authoritative {World.AuthoritativeEndpoint}");
        Assert.True(World.StartTime < TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("mx.signed.test", DnsProbe.A)]
    [InlineData("signed.test", DnsProbe.Mx)]
    [InlineData("_mta-sts.signed.test", DnsProbe.Txt)]
    [InlineData("_25._tcp.mx.signed.test", DnsProbe.Tlsa)]
    [InlineData("alias.deep.signed.test", DnsProbe.A)]
    [InlineData("www.sub.example", DnsProbe.A)]
    public async Task Signed_names_validate_with_AD(string name, ushort type)
    {
        var r = await World.QueryAsync(name, type);
        Assert.True(r is { Rcode: DnsProbeResult.NoError, Authenticated: true } && r.AnswerCount > 0, $"{r}\n{await World.DigAsync(name)}");
    }

    [Fact]
    public async Task Signed_nxdomain_is_authenticated()
    {
        var r = await World.QueryAsync("nope.signed.test", DnsProbe.A);
        Assert.Equal(new DnsProbeResult(DnsProbeResult.NxDomain, true, false, 0), r);
    }

    [Fact]
    public async Task Unsigned_zone_answers_without_AD()
    {
        var r = await World.QueryAsync("mx.unsigned.test", DnsProbe.A);
        Assert.True(r is { Rcode: DnsProbeResult.NoError, Authenticated: false, AnswerCount: 1 }, r.ToString());
    }

    [Theory]
    [InlineData("mx.bogus.test")]
    [InlineData("mx.expired.test")]
    public async Task Bogus_and_expired_zones_servfail(string name)
    {
        var r = await World.QueryAsync(name, DnsProbe.A);
        Assert.True(r.Rcode == DnsProbeResult.ServFail, $"{r}\n{World.ResolverLog}");
    }

    [Fact]
    public async Task Authoritative_server_answers_directly_and_flush_works()
    {
        var r = await DnsProbe.QueryAsync(World.AuthoritativeEndpoint, "mx.signed.test", DnsProbe.A);
        Assert.True(r is { Rcode: DnsProbeResult.NoError, Authoritative: true, AnswerCount: > 0 }, r.ToString());
        await World.FlushAsync();
        Assert.True((await World.QueryAsync("mx.signed.test", DnsProbe.A)).Authenticated);
    }
}
