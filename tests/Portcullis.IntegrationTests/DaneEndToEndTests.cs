using System.Net;
using System.Text.Json;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The DANE cases of RFC 7672 against a real signed hierarchy (nsd + ldns-signzone) and a
/// validating unbound that trusts only the test root. Each case asserts Portcullis's exact answer.
/// </summary>
public sealed class DaneWorldFixture : IAsyncLifetime
{
    public const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    public const string Sha512 = Sha256 + Sha256;
    public TestCa Ca { get; } = TestCa.Create();
    public PolicyHost Host { get; private set; } = null!;
    public DnsWorld Dns { get; private set; } = null!;
    public DaemonProcess Daemon { get; private set; } = null!;
    public string Dir { get; } = Directory.CreateTempSubdirectory("portcullis-dane-").FullName;

    public async Task InitializeAsync()
    {
        Host = PolicyHost.Start(Ca);
        string ip = Host.Address.ToString();
        var w = new DnsWorldBuilder();
        var z = w.Zone("dane.test");

        void Domain(string name, params (int U, int S, int M, string Hex)[] tlsa)
        {
            z.Mx($"mx.{name}.dane.test.", owner: name).A($"mx.{name}");
            foreach (var t in tlsa)
                z.Tlsa($"_25._tcp.mx.{name}", t.U, t.S, t.M, t.Hex);
        }
        void Sts(string owner, string fqdn, DnsZone zone, string mx)
        {
            zone.Add($"_mta-sts.{owner} TXT \"v=STSv1; id=1\"").A($"mta-sts.{owner}", ip);
            Host.Set($"mta-sts.{fqdn}", HostBehavior.Policy($"version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 86400\n"));
        }

        Domain("d311", (3, 1, 1, Sha256));
        Domain("d201", (2, 0, 1, Sha256));
        Domain("d312", (3, 1, 2, Sha512));
        Domain("usage01", (0, 0, 1, Sha256), (1, 1, 1, Sha256));
        Domain("badmt", (3, 1, 9, Sha256));
        Domain("shortdigest", (3, 1, 1, Sha256[..62]));
        Domain("badsel", (3, 2, 1, Sha256));
        Domain("mixed", (3, 1, 1, Sha256), (0, 0, 1, Sha256));
        Domain("notlsa");
        // Two MX hosts, only one with TLSA.
        z.Mx("mx1.twomx.dane.test.", 10, "twomx").Mx("mx2.twomx.dane.test.", 20, "twomx").A("mx1.twomx").A("mx2.twomx")
            .Tlsa("_25._tcp.mx1.twomx", 3, 1, 1, Sha256);
        // Implicit MX: no MX records, the domain is its own host.
        z.A("implicit").Tlsa("_25._tcp.implicit", 3, 1, 1, Sha256);
        // Null MX; an MTA-STS policy exists but must never be fetched.
        z.Add("nullmx MX 0 .");
        Sts("nullmx", "nullmx.dane.test", z, "mx.nullmx.dane.test");
        // CNAME'd MX host: TLSA at the target, or only at the alias.
        z.Mx("alias.cname1.dane.test.", owner: "cname1").Cname("alias.cname1", "real.cname1.dane.test.").A("real.cname1")
            .Tlsa("_25._tcp.real.cname1", 3, 1, 1, Sha256);
        z.Mx("alias.cname2.dane.test.", owner: "cname2").Cname("alias.cname2", "real.cname2.dane.test.").A("real.cname2")
            .Tlsa("_25._tcp.alias.cname2", 3, 1, 1, Sha256);
        // TLSA RRsets in their own zones: one with a DS that does not match (bogus), one with expired signatures.
        Domain("tb");
        w.Zone("_25._tcp.mx.tb.dane.test", bogusDs: true).Tlsa("@", 3, 1, 1, Sha256);
        Domain("te");
        w.Zone("_25._tcp.mx.te.dane.test", expiredSignatures: true).Tlsa("@", 3, 1, 1, Sha256);
        // DANE plus MTA-STS enforce: DANE wins. DANE temp failure plus valid MTA-STS: TEMP.
        Sts("d311", "d311.dane.test", z, "mx.d311.dane.test");
        Sts("tb", "tb.dane.test", z, "mx.tb.dane.test");
        // MX host address in a bogus zone; MX RRset itself bogus.
        z.Mx("mx.hostbogus.test.", owner: "hostaddr");
        w.Zone("hostbogus.test", bogusDs: true).A("mx").Tlsa("_25._tcp.mx", 3, 1, 1, Sha256);
        w.Zone("mxbogus.test", bogusDs: true).Mx("mx.d311.dane.test.");
        // Unsigned zones: insecure MX pointing at a DANE host; TLSA in an unsigned zone; insecure + MTA-STS.
        var u = w.Zone("unsigned.test", signed: false);
        u.Mx("mx.d311.dane.test.", owner: "insecuremx");
        u.Mx("mx.plain.unsigned.test.", owner: "plain").A("mx.plain").Tlsa("_25._tcp.mx.plain", 3, 1, 1, Sha256);
        u.Mx("mx.stsonly.unsigned.test.", owner: "stsonly").A("mx.stsonly");
        Sts("stsonly", "stsonly.unsigned.test", u, "mx.stsonly.unsigned.test");

        Dns = await w.StartAsync();
        Daemon = await DaemonProcess.StartAsync(Dns.ResolverEndpoint, Ca.ChildEnvironment, Path.Combine(Dir, "cache.db"),
            "mta_sts:\n  fetch_timeout_ms: 3000\n  allow_private_addresses: true\n", new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
    }

    public async Task DisposeAsync()
    {
        await Daemon.DisposeAsync();
        await Dns.DisposeAsync();
        await Host.DisposeAsync();
        Ca.Dispose();
        Directory.Delete(Dir, true);
    }
}

public sealed class DaneEndToEndTests(DaneWorldFixture world) : IClassFixture<DaneWorldFixture>
{
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private async Task<string> AskAsync(string key, string map = "QUERY")
    {
        await using var client = await world.Daemon.ConnectAsync(_ct);
        return await client.QueryAsync(map, key, _ct);
    }

    [Theory]
    [InlineData("d311.dane.test", "OK dane-only")]             // 3 1 1
    [InlineData("d201.dane.test", "OK dane-only")]             // 2 0 1
    [InlineData("d312.dane.test", "OK dane-only")]             // 3 1 2 with a 64-byte digest
    [InlineData("usage01.dane.test", "OK dane")]               // only usages 0 and 1: TLS required, not authenticated
    [InlineData("badmt.dane.test", "OK dane")]                 // matching type 9
    [InlineData("shortdigest.dane.test", "OK dane")]           // 31-byte SHA2-256 digest
    [InlineData("badsel.dane.test", "OK dane")]                // selector 2
    [InlineData("mixed.dane.test", "OK dane-only")]            // usable + unusable records
    [InlineData("twomx.dane.test", "OK dane")]                 // two MX, one with TLSA
    [InlineData("implicit.dane.test", "OK dane-only")]         // secure NODATA MX: the domain is its own host
    [InlineData("cname1.dane.test", "OK dane-only")]           // CNAME'd MX host, TLSA at the target
    [InlineData("cname2.dane.test", "OK dane-only")]           // CNAME'd MX host, TLSA only at the alias
    [InlineData("insecuremx.unsigned.test", "OK dane")]        // insecure MX pointing at a DANE host
    [InlineData("plain.unsigned.test", "NOTFOUND ")]           // TLSA in an unsigned zone is ignored
    [InlineData("notlsa.dane.test", "NOTFOUND ")]              // signed, no TLSA, no MTA-STS
    [InlineData("nullmx.dane.test", "NOTFOUND ")]              // MX 0 .
    [InlineData("d311.dane.test", "OK dane-only", "QUERYwithTLSRPT")] // DANE answers carry no STS attributes
    public async Task Dane_answers(string domain, string expected, string map = "QUERY") =>
        Assert.Equal(expected, await AskAsync(domain, map));

    [Theory]
    [InlineData("tb.dane.test")]          // TLSA RRset bogus (DS mismatch)
    [InlineData("te.dane.test")]          // TLSA RRset with expired signatures
    [InlineData("hostaddr.dane.test")]    // MX host address bogus
    [InlineData("mxbogus.test")]          // MX RRset bogus
    public async Task Dnssec_failures_defer_and_never_downgrade(string domain)
    {
        string answer = await AskAsync(domain);
        Assert.StartsWith("TEMP DANE: ", answer);
        Assert.StartsWith("TEMP ", await AskAsync(domain, "QUERYwithTLSRPT"));
    }

    [Fact]
    public async Task Dane_wins_over_a_valid_mta_sts_policy() =>
        Assert.Equal("OK dane-only", await AskAsync("d311.dane.test"));

    [Fact]
    public async Task A_dane_temp_failure_is_not_replaced_by_a_valid_mta_sts_policy() =>
        Assert.StartsWith("TEMP DANE: mx.tb.dane.test: TLSA lookup failed: _25._tcp.mx.tb.dane.test TLSA", await AskAsync("tb.dane.test"));

    [Fact]
    public async Task Insecure_mx_without_tlsa_falls_through_to_mta_sts() =>
        Assert.Equal("OK secure match=mx.stsonly.unsigned.test servername=hostname", await AskAsync("stsonly.unsigned.test"));

    [Fact]
    public async Task Null_mx_is_answered_without_fetching_a_policy()
    {
        Assert.Equal("NOTFOUND ", await AskAsync("nullmx.dane.test"));
        Assert.False(world.Host.WasRequested("mta-sts.nullmx.dane.test"));
    }

    [Fact]
    public async Task Query_shows_the_dns_evidence()
    {
        var (exit, stdout, stderr) = await DaemonProcess.RunQueryAsync(world.Dns.ResolverEndpoint, world.Ca.ChildEnvironment,
            ["mixed.dane.test", "--json"], _ct);
        Assert.True(exit == 0, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("resolver_validates").GetBoolean());
        var dane = root.GetProperty("dane");
        Assert.Equal("DaneOnly", dane.GetProperty("verdict").GetString());
        Assert.True(dane.GetProperty("mx_secure").GetBoolean());
        var host = dane.GetProperty("hosts")[0];
        Assert.Equal("mx.mixed.dane.test", host.GetProperty("host").GetString());
        Assert.Equal("_25._tcp.mx.mixed.dane.test", host.GetProperty("tlsa_name").GetString());
        var tlsa = host.GetProperty("tlsa").EnumerateArray().ToList();
        Assert.Equal(2, tlsa.Count);
        Assert.Single(tlsa, t => t.GetProperty("usable").GetBoolean() && t.GetProperty("record").GetString() == $"3 1 1 {DaneWorldFixture.Sha256}");
        Assert.Single(tlsa, t => !t.GetProperty("usable").GetBoolean() && t.GetProperty("why").GetString()!.Contains("usage 0"));
        Assert.Equal("OK dane-only", root.GetProperty("postfix_query").GetString());
    }

    [Fact]
    public async Task A_resolver_that_does_not_validate_is_reported_and_never_yields_dane_only()
    {
        // nsd is authoritative, not validating: it never sets AD.
        await using var daemon = await DaemonProcess.StartAsync(world.Dns.AuthoritativeEndpoint, world.Ca.ChildEnvironment,
            Path.Combine(world.Dir, "novalidate.db"), null, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.NotEqual("OK dane-only", await client.QueryAsync("QUERY", "d311.dane.test", _ct));
        Assert.True(await daemon.WaitForOutputAsync("Resolver self-test FAILED", TimeSpan.FromSeconds(15)), daemon.Output);

        var (_, stdout, _) = await DaemonProcess.RunQueryAsync(world.Dns.AuthoritativeEndpoint, world.Ca.ChildEnvironment,
            ["d311.dane.test"], _ct);
        Assert.Contains("NOT VALIDATING", stdout);
    }
}
