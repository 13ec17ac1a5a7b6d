using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The Debian way to a certificate for mta-sts.DOMAIN: Debian's certbot (--webroot, --deploy-hook)
/// against Debian's pebble ACME server, which really fetches the HTTP-01 challenge from policy-host's
/// port 80 after resolving mta-sts.pub.test through the test DNS world. Runs in about 15–25 s
/// (DNS world, two certbot runs).
/// </summary>
public sealed class AcmeCertbotTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Name = "mta-sts.pub.test";
    private readonly TempDir _dir = new("portcullis-acme");
    private readonly TestCa _pebbleTls = TestCa.Create("Pebble listener CA");
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private readonly IPAddress _ip = PolicyHostProcess.RandomLoopback();
    private readonly List<IAsyncDisposable> _stop = [];

    private string CertFile => _dir.File("mta-sts.crt");
    private string KeyFile => _dir.File("mta-sts.key");

    [Fact]
    public async Task Certbot_gets_a_certificate_via_the_webroot_and_policy_host_serves_it_and_its_renewal()
    {
        string certbot = TestBinaries.Require("certbot");
        string pebble = TestBinaries.Require("pebble");
        var w = new DnsWorldBuilder();
        w.Zone("pub.test").A("mta-sts", _ip.ToString());
        var dns = await w.StartAsync(_ct);
        _stop.Add(dns);

        // Bootstrap as README says: a throwaway self-signed certificate so policy-host can start.
        using (var placeholder = TestCa.CreateSelfSigned(Name))
            WriteCert(placeholder);
        string webroot = Directory.CreateDirectory(_dir.File("webroot")).FullName;
        string config = _dir.File("portcullis.yaml");
        await File.WriteAllTextAsync(config, $"""
            publish:
              listen: ["{_ip}:443"]
              acme_webroot: {webroot}
              acme_listen: ["{_ip}:80"]
              domains:
                pub.test:
                  mode: enforce
                  mx: [mx1.pub.test]
                  certificate: {CertFile}
                  key: {KeyFile}
            """, _ct);
        var host = await PolicyHostProcess.StartAsync(config, new IPEndPoint(_ip, 443), _dir.Path, _ct);
        _stop.Add(host);

        string directory = await StartPebbleAsync(dns.ResolverEndpoint);
        var env = new Dictionary<string, string> { ["REQUESTS_CA_BUNDLE"] = _pebbleTls.CaFile };
        string[] dirs = ["--config-dir", _dir.File("le/conf"), "--work-dir", _dir.File("le/work"), "--logs-dir", _dir.File("le/logs"), "--non-interactive"];
        // The deploy hook README shows: copy into place for the portcullis user, key first, each by rename.
        string hook = $"install -m 0600 \"$RENEWED_LINEAGE/privkey.pem\" {KeyFile}.new && install -m 0644 \"$RENEWED_LINEAGE/fullchain.pem\" {CertFile}.new"
            + $" && mv {KeyFile}.new {KeyFile} && mv {CertFile}.new {CertFile}";

        var sw = Stopwatch.StartNew();
        var issue = await ChildProcess.RunAsync(certbot, ["certonly", .. dirs, "--agree-tos", "--register-unsafely-without-email",
            "--server", directory, "--webroot", "-w", webroot, "-d", Name, "--deploy-hook", hook], environment: env, ct: _ct);
        Assert.True(issue.ExitCode == 0, issue.Stdout + issue.Stderr + "\n" + host.Output);
        var certbotTime = sw.Elapsed;
        string live = _dir.File($"le/conf/live/{Name}/cert.pem");
        var first = await ServedWithinAsync(live, TimeSpan.FromSeconds(5));
        Assert.Contains("Pebble", first.Issuer, StringComparison.Ordinal);
        Assert.Matches($@"GET http://{Name}(:80)?/\.well-known/acme-challenge/\S+ from \S+: 200", host.Output);

        // Debian's certbot.timer runs `certbot renew`; the deploy hook is stored with the lineage.
        sw.Restart();
        var renew = await ChildProcess.RunAsync(certbot, ["renew", .. dirs, "--force-renewal", "--no-random-sleep-on-renew"], environment: env, ct: _ct);
        Assert.True(renew.ExitCode == 0, renew.Stdout + renew.Stderr);
        var renewTime = sw.Elapsed;
        var second = await ServedWithinAsync(live, TimeSpan.FromSeconds(5));
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.DoesNotContain("Exception", host.Output, StringComparison.Ordinal);
        output.WriteLine($"certbot certonly took {certbotTime.TotalSeconds:F1} s, certbot renew {renewTime.TotalSeconds:F1} s");
    }

    private void WriteCert(X509Certificate2 cert)
    {
        File.WriteAllText(CertFile, cert.ExportCertificatePem());
        File.WriteAllText(KeyFile, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Polls policy-host until it serves the certificate certbot just wrote; fails after the bound.</summary>
    private async Task<X509Certificate2> ServedWithinAsync(string expectedFile, TimeSpan bound)
    {
        var expected = X509CertificateLoader.LoadCertificateFromFile(expectedFile);
        var sw = Stopwatch.StartNew();
        X509Certificate2? served = null;
        while (sw.Elapsed < bound)
        {
            served = await HandshakeAsync();
            if (served.Thumbprint == expected.Thumbprint)
            {
                output.WriteLine($"served {served.SerialNumber} {sw.ElapsedMilliseconds} ms after certbot exited");
                return served;
            }
            await Task.Delay(100, _ct);
        }
        Assert.Fail($"policy-host still served {served?.Subject} {served?.SerialNumber} after {bound}, not {expected.SerialNumber}");
        return null!;
    }

    private async Task<X509Certificate2> HandshakeAsync()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_ip, 443, _ct);
        X509Certificate2? seen = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, c, _, _) => { seen = new X509Certificate2(c!); return true; });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = Name }, _ct);
        return seen!;
    }

    /// <summary>Pebble with its own TLS listener certificate, no random sleeps or nonce rejections; returns the directory URL.</summary>
    private async Task<string> StartPebbleAsync(IPEndPoint resolver)
    {
        int port = FreePort.Tcp(IPAddress.Loopback), mgmt = FreePort.Tcp(IPAddress.Loopback);
        using (var tls = _pebbleTls.IssueLeaf("localhost"))
        {
            await File.WriteAllTextAsync(_dir.File("pebble.crt"), tls.ExportCertificatePem(), _ct);
            await File.WriteAllTextAsync(_dir.File("pebble.key"), tls.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), _ct);
        }
        await File.WriteAllTextAsync(_dir.File("pebble.json"), $$"""
            {"pebble": {"listenAddress": "127.0.0.1:{{port}}", "managementListenAddress": "127.0.0.1:{{mgmt}}",
              "certificate": "{{_dir.File("pebble.crt")}}", "privateKey": "{{_dir.File("pebble.key")}}",
              "httpPort": 80, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false } }
            """, _ct);
        var p = ChildProcess.Start(TestBinaries.Require("pebble"), ["-config", _dir.File("pebble.json"), "-dnsserver", resolver.ToString()], _dir.Path,
            new Dictionary<string, string> { ["PEBBLE_VA_NOSLEEP"] = "1", ["PEBBLE_WFE_NONCEREJECT"] = "0" });
        _stop.Add(p);
        for (int i = 0; i < 200 && !p.Output.Contains("Listening on", StringComparison.Ordinal); i++)
        {
            Assert.False(p.HasExited, p.Output);
            await Task.Delay(50, _ct);
        }
        return $"https://localhost:{port}/dir";
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _stop.Count - 1; i >= 0; i--)
            await _stop[i].DisposeAsync();
        _pebbleTls.Dispose();
        _dir.Dispose();
    }
}
