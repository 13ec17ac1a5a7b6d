using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// PROXY protocol behind a load balancer: a real HAProxy (send-proxy and send-proxy-v2) in front of
/// policy-host, forged headers from untrusted sources, and the TLS-RPT report listener of `serve`.
/// </summary>
public sealed class LoadBalancerTests : IAsyncLifetime
{
    private const string Name = "mta-sts.pub.test";
    private readonly TempDir _dir = new("portcullis-lb");
    private readonly TestCa _ca = TestCa.Create();
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;
    private readonly IPAddress _host = PolicyHostProcess.RandomLoopback();
    // HAProxy listens on _lb and connects to policy-host from _proxy, the only trusted address (a /32).
    private readonly IPAddress _lb = PolicyHostProcess.RandomLoopback();
    private readonly IPAddress _proxy = PolicyHostProcess.RandomLoopback();
    private readonly IPAddress _client = PolicyHostProcess.RandomLoopback();
    private readonly IPAddress _stranger = PolicyHostProcess.RandomLoopback();
    private int _v1Port, _v2Port;
    private ChildProcess _policyHost = null!, _haproxy = null!;

    public async Task InitializeAsync()
    {
        using (var cert = _ca.IssueLeaf(Name))
        {
            File.WriteAllText(_dir.File("c.pem"), cert.ExportCertificatePem());
            File.WriteAllText(_dir.File("k.pem"), cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }
        string config = _dir.File("portcullis.yaml");
        await File.WriteAllTextAsync(config, $"""
            trusted_proxies: ["{_proxy}/32"]
            publish:
              listen: ["{_host}:443"]
              domains:
                pub.test:
                  mode: enforce
                  mx: [mx1.pub.test]
                  certificate: {_dir.File("c.pem")}
                  key: {_dir.File("k.pem")}
            """, _ct);
        _policyHost = await PolicyHostProcess.StartAsync(config, new IPEndPoint(_host, 443), _dir.Path, _ct);
        _v1Port = FreePort.Tcp(_lb);
        _v2Port = FreePort.Tcp(_lb);
        await File.WriteAllTextAsync(_dir.File("haproxy.cfg"), $"""
            defaults
              mode tcp
              timeout connect 5s
              timeout client 20s
              timeout server 20s
            frontend v1
              bind {_lb}:{_v1Port}
              default_backend v1
            frontend v2
              bind {_lb}:{_v2Port}
              default_backend v2
            backend v1
              server policyhost {_host}:443 send-proxy source {_proxy}
            backend v2
              server policyhost {_host}:443 send-proxy-v2 source {_proxy}

            """, _ct);
        _haproxy = ChildProcess.Start(TestBinaries.Require("haproxy"), ["-db", "-f", _dir.File("haproxy.cfg")], _dir.Path);
        for (int i = 0; !await CanConnect(new IPEndPoint(_lb, _v2Port)); i++)
        {
            Assert.False(_haproxy.HasExited || i > 200, "haproxy did not start:\n" + _haproxy.Output);
            await Task.Delay(50, _ct);
        }
    }

    public async Task DisposeAsync()
    {
        await _haproxy.DisposeAsync();
        await _policyHost.DisposeAsync();
        _ca.Dispose();
        _dir.Dispose();
    }

    private async Task<bool> CanConnect(IPEndPoint ep)
    {
        try
        {
            using var t = new TcpClient();
            await t.ConnectAsync(ep, _ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task HAProxy_send_proxy_gives_policy_host_the_real_client_address(int version)
    {
        string curl = TestBinaries.Require("curl");
        int port = version == 1 ? _v1Port : _v2Port;
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(curl, ["-sS", "--interface", _client.ToString(), "--cacert", _ca.CaFile,
            "--resolve", $"{Name}:{port}:{_lb}", $"https://{Name}:{port}/.well-known/mta-sts.txt"], ct: _ct);
        Assert.True(exit == 0, stderr + "\n" + _policyHost.Output);
        Assert.StartsWith("version: STSv1\r\nmode: enforce\r\n", stdout);
        string line = $"GET https://{Name}:{port}/.well-known/mta-sts.txt from {_client}: 200";
        await WaitForLogAsync(() => _policyHost.Output, line);
        Assert.DoesNotContain($"from {_proxy}:", _policyHost.Output);
    }

    [Fact]
    public async Task A_forged_header_from_an_untrusted_source_is_refused_and_plain_clients_still_served()
    {
        var target = new IPEndPoint(_host, 443);
        Assert.Null(await HttpsAsync(_stranger, target, Encoding.ASCII.GetBytes($"PROXY TCP4 203.0.113.7 {_host} 5555 443\r\n")));
        Assert.Null(await HttpsAsync(_stranger, target, V2Header(IPAddress.Parse("203.0.113.8"), _host)));
        await WaitForLogAsync(() => _policyHost.Output, $"Refused a PROXY protocol header from {_stranger}:");
        Assert.DoesNotContain("203.0.113.", _policyHost.Output);
        // The same source without a header is an ordinary client.
        Assert.StartsWith("HTTP/1.1 200", await HttpsAsync(_stranger, target, []));
        await WaitForLogAsync(() => _policyHost.Output, $"from {_stranger}: 200");
        // The trusted proxy address must send a header: without one it could pose as any client.
        Assert.Null(await HttpsAsync(_proxy, target, []));
        Assert.StartsWith("HTTP/1.1 200", await HttpsAsync(_proxy, target, V2Header(IPAddress.Parse("198.51.100.9"), _host)));
        await WaitForLogAsync(() => _policyHost.Output, "from 198.51.100.9: 200");
        Assert.DoesNotContain("Exception", _policyHost.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_report_listener_takes_headers_only_from_trusted_proxies()
    {
        int port = FreePort.Tcp(_host);
        string yaml = $"log_level: debug\ntrusted_proxies: [\"{_proxy}\"]\ntlsrpt:\n  database: {_dir.File("tlsrpt.db")}\n  receive_listen: [\"{_host}:{port}\"]\n";
        await using var daemon = await DaemonProcess.StartAsync(new IPEndPoint(IPAddress.Loopback, 9), new Dictionary<string, string>(), _dir.File("cache.db"), yaml, _ct);
        var target = new IPEndPoint(_host, port);
        for (int i = 0; !await CanConnect(target); i++)
        {
            Assert.True(i < 200, daemon.Output);
            await Task.Delay(50, _ct);
        }
        Assert.StartsWith("HTTP/1.1 201", await PostReportAsync(_proxy, target, V2Header(IPAddress.Parse("198.51.100.23"), _host), "r1"));
        await WaitForLogAsync(() => daemon.Output, $"PROXY header from {_proxy}:");
        Assert.Contains("client 198.51.100.23:", daemon.Output);
        Assert.Null(await PostReportAsync(_stranger, target, Encoding.ASCII.GetBytes($"PROXY TCP4 203.0.113.7 {_host} 5555 {port}\r\n"), "r2"));
        Assert.Null(await PostReportAsync(_proxy, target, [], "r3"));
        Assert.StartsWith("HTTP/1.1 201", await PostReportAsync(_stranger, target, [], "r4"));
        await WaitForLogAsync(() => daemon.Output, $"Refused a PROXY protocol header from {_stranger}:");
    }

    private static byte[] V2Header(IPAddress source, IPAddress destination) =>
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 12,
         .. source.GetAddressBytes(), .. destination.GetAddressBytes(), 0xC3, 0x50, 0x01, 0xBB];

    private async Task<Socket> ConnectFromAsync(IPAddress from, IPEndPoint to, byte[] preamble)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(from, 0));
        await s.ConnectAsync(to, _ct);
        if (preamble.Length > 0)
            await s.SendAsync(preamble, _ct);
        return s;
    }

    /// <summary>GET the policy over TLS after the preamble; null when the server closes the connection instead.</summary>
    private async Task<string?> HttpsAsync(IPAddress from, IPEndPoint to, byte[] preamble)
    {
        using var s = await ConnectFromAsync(from, to, preamble);
        var policy = _ca.CreateChainPolicy();
        await using var tls = new SslStream(new NetworkStream(s, true), false, (_, c, _, _) =>
        {
            using var chain = new X509Chain { ChainPolicy = policy };
            return chain.Build(new X509Certificate2(c!));
        });
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = Name }, _ct);
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {Name}\r\nConnection: close\r\n\r\n"), _ct);
            return await new StreamReader(tls).ReadToEndAsync(_ct);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            return null;
        }
    }

    /// <summary>POST a small report over plain HTTP after the preamble; null when the server closes the connection.</summary>
    private async Task<string?> PostReportAsync(IPAddress from, IPEndPoint to, byte[] preamble, string id)
    {
        string body = $$"""
            {"organization-name":"LB","date-range":{"start-datetime":"2026-11-20T00:00:00Z","end-datetime":"2026-11-20T23:59:59Z"},
             "contact-info":"tlsrpt@sender.example","report-id":"{{id}}",
             "policies":[{"policy":{"policy-type":"no-policy-found","policy-domain":"example.com"},
                          "summary":{"total-successful-session-count":1,"total-failure-session-count":0} } ] }
            """;
        using var s = await ConnectFromAsync(from, to, preamble);
        await using var stream = new NetworkStream(s, true);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /tlsrpt HTTP/1.1\r\nHost: reports:{to.Port}\r\nContent-Type: application/tlsrpt+json\r\n"
                + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}"), _ct);
            string response = await new StreamReader(stream).ReadToEndAsync(_ct);
            return response.Length == 0 ? null : response;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task WaitForLogAsync(Func<string> log, string text)
    {
        for (int i = 0; i < 100 && !log().Contains(text, StringComparison.Ordinal); i++)
            await Task.Delay(50, _ct); // the log pipe may lag the response
        Assert.True(log().Contains(text, StringComparison.Ordinal), $"not in the log: {text}\n{log()}");
    }
}
