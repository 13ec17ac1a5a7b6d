using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>`check DOMAIN` against the test world: DNSSEC zones, an HTTPS policy host and STARTTLS sinks on port 25.</summary>
public sealed class CheckFixture : IAsyncLifetime
{
    public TestCa Ca { get; } = TestCa.Create();
    public PolicyHost Host { get; private set; } = null!;
    public DnsWorld Dns { get; private set; } = null!;
    public string Config { get; } = Path.Combine(Path.GetTempPath(), $"portcullis-check-{Guid.NewGuid():N}.yaml");
    private readonly List<SmtpSink> _sinks = [];
    private readonly int _net = Random.Shared.Next(1, 250);

    public string Ip(int n) => $"127.10.{_net}.{n}";

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Config, "mta_sts:\n  allow_private_addresses: true\n");
        Host = PolicyHost.Start(Ca);
        string host = Host.Address.ToString();
        var goodCert = Ca.IssueLeaf("mx.good.chk.test");
        var badCert = Ca.IssueLeaf("wrong-name.invalid");
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(1)), "mx.good.chk.test", goodCert));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(2)), "mx1.bad.chk.test", badCert));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(3)), "mx2.bad.chk.test", goodCert, offerStartTls: false));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(4)), "mx1.weak.chk.test", TestCa.CreateSelfSigned("mx1.weak.chk.test")));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(5)), "mx2.weak.chk.test",
            Ca.IssueLeaf(["mx2.weak.chk.test"], DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(5))));
        string Spki(System.Security.Cryptography.X509Certificates.X509Certificate2 c) =>
            Convert.ToHexString(SHA256.HashData(c.PublicKey.ExportSubjectPublicKeyInfo())).ToLowerInvariant();

        var w = new DnsWorldBuilder();
        var z = w.Zone("chk.test");
        z.Mx("mx.good.chk.test.", owner: "good").A("mx.good", Ip(1)).Tlsa("_25._tcp.mx.good", 3, 1, 1, Spki(goodCert))
            .MtaSts("g1", "good").A("mta-sts.good", host).Txt("_smtp._tls.good", "v=TLSRPTv1; rua=mailto:tlsrpt@good.chk.test");
        Host.Set("mta-sts.good.chk.test", HostBehavior.Policy("version: STSv1\r\nmode: enforce\r\nmx: mx.good.chk.test\r\nmax_age: 604800\r\n"));

        z.Mx("mx1.bad.chk.test.", 10, "bad").Mx("mx2.bad.chk.test.", 20, "bad").A("mx1.bad", Ip(2)).A("mx2.bad", Ip(3))
            .Tlsa("_25._tcp.mx1.bad", 3, 1, 1, Spki(goodCert))
            .MtaSts("b1", "bad").A("mta-sts.bad", host).Txt("_smtp._tls.bad", "v=TLSRPTv1; rua=http://reports.bad.chk.test/");
        Host.Set("mta-sts.bad.chk.test", HostBehavior.Policy("version: STSv1\nmode: enforce\nmx: mx1.bad.chk.test\nmax_age: 3600\n"));

        z.Mx("mx.good.chk.test.", owner: "fetchfail").MtaSts("f1", "fetchfail").A("mta-sts.fetchfail", host);
        Host.Set("mta-sts.fetchfail.chk.test", HostBehavior.NotFound());
        z.Mx("mx.good.chk.test.", owner: "twosts").MtaSts("1", "twosts").MtaSts("2", "twosts");

        z.Mx("mx1.weak.chk.test.", 10, "weak").Mx("mx2.weak.chk.test.", 20, "weak").A("mx1.weak", Ip(4)).A("mx2.weak", Ip(5));
        // One MX host on two addresses, the second of which does not offer STARTTLS, and a third whose
        // certificate is for another name: every address is probed, each distinct certificate judged.
        var multiCert = Ca.IssueLeaf("mx.multi.chk.test");
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(6)), "mx.multi.chk.test", multiCert));
        z.Mx("mx.multi.chk.test.", owner: "multi").Add($"mx.multi A {Ip(6)}").Add($"mx.multi A {Ip(3)}").Add($"mx.multi A {Ip(2)}");
        z.A("implicit", Ip(1)); // no MX: mail goes to the domain's own address
        z.Mx("mx.good.chk.test.", owner: "daneonly");    // DANE (mx.good has TLSA), no MTA-STS
        z.Mx("mx.good.chk.test.", owner: "badid").Add("_mta-sts.badid TXT \"v=STSv1; id=2024-01-01\"").A("mta-sts.badid", host);
        Host.Set("mta-sts.badid.chk.test", HostBehavior.Policy("version: STSv1\r\nmode: enforce\r\nmx: mx.good.chk.test\r\nmax_age: 604800\r\n"));
        w.Zone("plain.test", signed: false).Mx("mx.good.chk.test.");
        w.Zone("bogus.test", bogusDs: true).Mx("mx.good.chk.test.");
        Dns = await w.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _sinks)
            await s.DisposeAsync();
        await Dns.DisposeAsync();
        await Host.DisposeAsync();
        Ca.Dispose();
        File.Delete(Config);
    }
}

public sealed class CheckTests(CheckFixture world) : IClassFixture<CheckFixture>
{
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private async Task<(int Exit, Dictionary<string, (string Status, string Detail)> Items, string Text)> CheckAsync(string domain)
    {
        var (exit, json, err) = await DaemonProcess.RunCliAsync(world.Ca.ChildEnvironment,
            ["check", domain, "--json", "--dns", world.Dns.ResolverEndpoint.ToString(), "--config", world.Config], _ct);
        Assert.True(exit is 0 or 1, err + json);
        using var doc = JsonDocument.Parse(json);
        var items = doc.RootElement.GetProperty("items").EnumerateArray().ToDictionary(
            i => $"{i.GetProperty("area").GetString()}/{i.GetProperty("title").GetString()}",
            i => (i.GetProperty("status").GetString()!, i.GetProperty("detail").GetString()!));
        var text = await DaemonProcess.RunCliAsync(world.Ca.ChildEnvironment,
            ["check", domain, "--dns", world.Dns.ResolverEndpoint.ToString(), "--config", world.Config], _ct);
        return (exit, items, text.Stdout);
    }

    [Fact]
    public async Task A_well_configured_domain_passes_every_check()
    {
        var (exit, items, text) = await CheckAsync("good.chk.test");
        Assert.True(exit == 0, text);
        foreach (string key in new[] { "MX/MX records", "DNSSEC/MX records signed", "MTA-STS/_mta-sts record", "MTA-STS/policy fetch",
                     "MTA-STS/policy mode", "MTA-STS/policy covers mx.good.chk.test", "mx.good.chk.test/STARTTLS",
                     "mx.good.chk.test/certificate name", "mx.good.chk.test/certificate chain", "mx.good.chk.test/certificate expiry",
                     "mx.good.chk.test/TLSA", "TLS-RPT/_smtp._tls record" })
            Assert.True(items.TryGetValue(key, out var v) && v.Status == "pass", $"{key}: {(items.TryGetValue(key, out var x) ? x : ("missing", ""))}\n{text}");
        Assert.Contains("0 failures", text);
        Assert.False(items.ContainsKey("MTA-STS/line endings"), text); // CRLF, as RFC 8461 specifies: nothing to say
    }

    [Fact]
    public async Task A_domain_without_mx_is_checked_as_its_own_mail_host_with_a_warning()
    {
        var (_, items, text) = await CheckAsync("implicit.chk.test");
        Assert.Equal("warn", items["MX/MX records"].Status);
        Assert.Contains("implicit MX", items["MX/MX records"].Detail);
        Assert.Equal("pass", items["implicit.chk.test/STARTTLS"].Status);
        Assert.Equal("warn", items["implicit.chk.test/certificate name"].Status); // the sink's certificate is for mx.good
        Assert.Contains("Publish MX records", text);
    }

    [Fact]
    public async Task A_broken_domain_gets_a_failure_with_a_fix_for_each_problem()
    {
        var (exit, items, text) = await CheckAsync("bad.chk.test");
        Assert.Equal(1, exit);
        Assert.Equal("fail", items["MTA-STS/policy covers mx2.bad.chk.test"].Status);
        Assert.Equal("pass", items["MTA-STS/policy covers mx1.bad.chk.test"].Status);
        Assert.Equal("warn", items["MTA-STS/policy mode"].Status);                // enforce with max_age 3600
        Assert.Equal("info", items["MTA-STS/line endings"].Status);               // LF only
        Assert.Equal("fail", items["mx1.bad.chk.test/certificate name"].Status);
        Assert.Equal("fail", items["mx1.bad.chk.test/TLSA"].Status);              // TLSA of another key
        Assert.Equal("fail", items["mx2.bad.chk.test/STARTTLS"].Status);
        Assert.Contains("not offered", items["mx2.bad.chk.test/STARTTLS"].Detail);
        Assert.Equal("fail", items["TLS-RPT/_smtp._tls record"].Status);          // http: rua
        Assert.Contains("fix:", text);
    }

    [Fact]
    public async Task Every_address_of_an_mx_host_is_probed_and_each_certificate_judged()
    {
        var (exit, items, text) = await CheckAsync("multi.chk.test");
        Assert.Equal(1, exit);
        string good = world.Ip(6), plain = world.Ip(3), wrong = world.Ip(2);
        Assert.Equal("pass", items[$"mx.multi.chk.test/STARTTLS {good}"].Status);
        Assert.Equal("fail", items[$"mx.multi.chk.test/STARTTLS {plain}"].Status);
        Assert.Contains("not offered", items[$"mx.multi.chk.test/STARTTLS {plain}"].Detail);
        Assert.Equal("pass", items[$"mx.multi.chk.test/STARTTLS {wrong}"].Status);
        Assert.Equal("pass", items[$"mx.multi.chk.test/certificate name {good}"].Status);
        Assert.Equal("warn", items[$"mx.multi.chk.test/certificate name {wrong}"].Status); // no MTA-STS: a warning
        Assert.Contains("CN=wrong-name.invalid", items[$"mx.multi.chk.test/certificate name {wrong}"].Detail);
        Assert.False(items.ContainsKey("mx.multi.chk.test/STARTTLS"), text);
    }

    [Theory]
    [InlineData("fetchfail.chk.test", "MTA-STS/policy fetch", "fail")]
    [InlineData("twosts.chk.test", "MTA-STS/_mta-sts record", "fail")]
    [InlineData("plain.test", "DNSSEC/MX records signed", "warn")]
    [InlineData("plain.test", "MTA-STS/_mta-sts record", "warn")]
    [InlineData("plain.test", "TLS-RPT/_smtp._tls record", "warn")]
    [InlineData("bogus.test", "MX/MX records", "fail")]                            // DNSSEC validation failure
    [InlineData("weak.chk.test", "mx1.weak.chk.test/certificate chain", "warn")]   // self-signed, no MTA-STS: warn
    [InlineData("weak.chk.test", "mx2.weak.chk.test/certificate expiry", "warn")]  // 5 days left
    [InlineData("weak.chk.test", "mx2.weak.chk.test/certificate chain", "pass")]
    [InlineData("weak.chk.test", "mx1.weak.chk.test/TLSA", "warn")]              // signed zone, no TLSA
    [InlineData("daneonly.chk.test", "MTA-STS/_mta-sts record", "info")]           // DANE protects it
    [InlineData("daneonly.chk.test", "mx.good.chk.test/TLSA", "pass")]
    public async Task Single_findings(string domain, string key, string status)
    {
        var (_, items, text) = await CheckAsync(domain);
        Assert.True(items.TryGetValue(key, out var v) && v.Status == status, $"{key} in\n{text}");
    }

    [Fact]
    public async Task Missing_tlsa_in_a_signed_zone_is_a_finding_and_dane_is_not_told_it_lacks_tls()
    {
        var (_, weak, _) = await CheckAsync("weak.chk.test");
        Assert.Contains("no TLSA records at _25._tcp.mx1.weak.chk.test although the zone is DNSSEC-signed", weak["mx1.weak.chk.test/TLSA"].Detail);
        var (_, dane, text) = await CheckAsync("daneonly.chk.test");
        Assert.DoesNotContain("senders may deliver without TLS", text);
        Assert.Contains("DANE protects delivery", dane["MTA-STS/_mta-sts record"].Detail);
        Assert.Equal("warn", (await CheckAsync("plain.test")).Items["MTA-STS/_mta-sts record"].Status); // unsigned: no DANE
    }

    [Fact]
    public async Task The_certificate_name_finding_says_which_field_matched()
    {
        var (_, items, _) = await CheckAsync("good.chk.test");
        Assert.Equal("subjectAltName DNS:mx.good.chk.test covers mx.good.chk.test", items["mx.good.chk.test/certificate name"].Detail);
        var (_, bad, _) = await CheckAsync("bad.chk.test");
        Assert.StartsWith("subjectAltName DNS:wrong-name.invalid (CN=wrong-name.invalid) does not cover", bad["mx1.bad.chk.test/certificate name"].Detail);
    }

    [Fact]
    public async Task An_invalid_record_id_still_gets_the_policy_file_checked()
    {
        var (exit, items, text) = await CheckAsync("badid.chk.test");
        Assert.Equal(1, exit);
        Assert.Equal("fail", items["MTA-STS/_mta-sts record"].Status);
        Assert.Contains("id '2024-01-01' contains '-'", items["MTA-STS/_mta-sts record"].Detail);
        Assert.True(items.TryGetValue("MTA-STS/policy fetch", out var fetch) && fetch.Status == "pass", text);
        Assert.Equal("pass", items["MTA-STS/policy mode"].Status);
    }

    [Fact]
    public async Task A_policy_host_on_a_private_address_is_explained_as_the_reason()
    {
        // The default configuration refuses non-public policy hosts; the test host is on loopback.
        string strict = Path.Combine(Path.GetTempPath(), $"portcullis-check-strict-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(strict, "mta_sts:\n  allow_private_addresses: false\n", _ct);
        try
        {
            var (exit, text, err) = await DaemonProcess.RunCliAsync(world.Ca.ChildEnvironment,
                ["check", "good.chk.test", "--dns", world.Dns.ResolverEndpoint.ToString(), "--config", strict], _ct);
            Assert.True(exit == 1, err + text);
            string fetch = text.Split('\n').Single(l => l.Contains("policy fetch:", StringComparison.Ordinal));
            Assert.Contains("[FAIL]", fetch);
            Assert.Contains("non-public addresses", fetch);
            Assert.Contains($"fix: mta-sts.good.chk.test resolves only to private/non-public addresses ({world.Host.Address}): that is why the fetch was refused", text);
            Assert.DoesNotContain("Serve the policy with status 200", text);
        }
        finally
        {
            File.Delete(strict);
        }
    }
}
