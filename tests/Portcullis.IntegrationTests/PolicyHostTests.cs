using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>`policy-host` and `records` against real HTTPS clients (.NET, curl) and Portcullis's own fetcher.</summary>
public sealed class PolicyHostTests : IAsyncLifetime
{
    private readonly TestCa _ca = TestCa.Create();
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-pub-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;
    private readonly IPAddress _ip = IPAddress.Parse($"127.9.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}");
    private ChildProcess _host = null!;
    private string _config = "";

    private string CertFile(string name) => Path.Combine(_dir, name + ".crt");
    private string KeyFile(string name) => Path.Combine(_dir, name + ".key");

    private void WriteCert(string name, X509Certificate2 cert)
    {
        File.WriteAllText(CertFile(name), cert.ExportCertificatePem());
        File.WriteAllText(KeyFile(name), cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    public async Task InitializeAsync()
    {
        WriteCert("mta-sts.pub.test", _ca.IssueLeaf("mta-sts.pub.test"));
        WriteCert("mta-sts.other.test", _ca.IssueLeaf("mta-sts.other.test"));
        WriteCert("mx1.pub.test", TestCa.CreateSelfSigned("mx1.pub.test"));
        _config = Path.Combine(_dir, "portcullis.yaml");
        await File.WriteAllTextAsync(_config, $"""
            publish:
              listen: ["{_ip}:443"]
              acme_webroot: {_dir}
              acme_listen: ["{_ip}:80"]
              domains:
                pub.test:
                  mode: enforce
                  mx: [mx1.pub.test, "*.backup.pub.test"]
                  max_age: 86400
                  certificate: {CertFile("mta-sts.pub.test")}
                  key: {KeyFile("mta-sts.pub.test")}
                  tlsrpt_rua: "mailto:tlsrpt@pub.test"
                  mx_certificates:
                    mx1.pub.test: {CertFile("mx1.pub.test")}
                other.test:
                  mode: testing
                  mx: [mail.other.test]
                  certificate: {CertFile("mta-sts.other.test")}
                  key: {KeyFile("mta-sts.other.test")}
            """, _ct);
        _host = ChildProcess.Start(DaemonProcess.Command[0], [.. DaemonProcess.Command.Skip(1), "policy-host", "--config", _config], _dir);
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var t = new TcpClient();
                await t.ConnectAsync(_ip, 443, _ct);
                return;
            }
            catch (SocketException)
            {
                Assert.False(_host.HasExited, _host.Output);
                await Task.Delay(50, _ct);
            }
        }
        Assert.Fail("policy-host did not listen:\n" + _host.Output);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_dir, true);
    }

    private HttpClient Client(Action<X509Certificate2>? seen = null)
    {
        var policy = _ca.CreateChainPolicy();
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(_ip, 443, ct);
                return new NetworkStream(s, true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    var c = new X509Certificate2(cert!);
                    seen?.Invoke(c);
                    using var chain = new X509Chain { ChainPolicy = policy };
                    return chain.Build(c) && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None;
                },
            },
        };
        return new HttpClient(handler);
    }

    [Fact]
    public async Task Refuses_to_start_with_a_missing_certificate_naming_the_file()
    {
        string missing = Path.Combine(_dir, "missing.crt");
        string config = Path.Combine(_dir, "missing.yaml");
        await File.WriteAllTextAsync(config, $"""
            publish:
              listen: ["{_ip}:8443"]
              domains:
                pub.test:
                  mode: enforce
                  mx: [mx1.pub.test]
                  certificate: {missing}
                  key: {KeyFile("mta-sts.pub.test")}
            """, _ct);
        var run = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["policy-host", "--config", config], _ct);
        Assert.Equal(66, run.ExitCode); // EX_NOINPUT
        string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"portcullis: publish.domains.pub.test: {missing}: no such file", line);

        await File.WriteAllTextAsync(missing, "not a certificate", _ct);
        run = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["policy-host", "--config", config], _ct);
        Assert.Equal(65, run.ExitCode); // EX_DATAERR
        Assert.StartsWith($"portcullis: publish.domains.pub.test: {missing} / ", Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
    }

    [Fact]
    public async Task Serves_each_domain_its_policy_with_crlf_and_text_plain()
    {
        using var http = Client();
        using var r = await http.GetAsync("https://mta-sts.pub.test/.well-known/mta-sts.txt", _ct);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/plain", r.Content.Headers.ContentType!.MediaType);
        Assert.Null(r.Headers.CacheControl);
        Assert.Equal("version: STSv1\r\nmode: enforce\r\nmx: mx1.pub.test\r\nmx: *.backup.pub.test\r\nmax_age: 86400\r\n",
            await r.Content.ReadAsStringAsync(_ct));
        Assert.Equal("version: STSv1\r\nmode: testing\r\nmx: mail.other.test\r\nmax_age: 604800\r\n",
            await http.GetStringAsync("https://mta-sts.other.test/.well-known/mta-sts.txt", _ct));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("https://mta-sts.pub.test/other", _ct)).StatusCode);
    }

    [Theory]
    [InlineData("https://mta-sts.pub.test/.well-known/mta-sts.txt")]
    [InlineData("https://mta-sts.other.test/.well-known/mta-sts.txt")]
    [InlineData("https://mta-sts.pub.test/.well-known/other.txt")]
    [InlineData("https://mta-sts.pub.test/other")]
    public async Task Head_answers_like_get_without_a_body(string url)
    {
        using var http = Client();
        using var get = await http.GetAsync(url, _ct);
        byte[] body = await get.Content.ReadAsByteArrayAsync(_ct);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), _ct);
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
        Assert.Equal(body.Length, get.Content.Headers.ContentLength ?? body.Length);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(_ct));
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
    }

    [Fact]
    public async Task Curl_fetches_the_policy_and_unknown_hosts_get_404()
    {
        string curl = TestBinaries.Require("curl");
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(curl, ["-sS", "--cacert", _ca.CaFile, "--resolve",
            $"mta-sts.pub.test:443:{_ip}", "-D", "-", "https://mta-sts.pub.test/.well-known/mta-sts.txt"], ct: _ct);
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^HTTP/\S+ 200", stdout);
        Assert.Contains("content-type: text/plain", stdout, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("mode: enforce\r\nmx: mx1.pub.test\r\nmx: *.backup.pub.test\r\nmax_age: 86400\r\n", stdout);
        // A known name in SNI but another in Host: no policy.
        var otherHost = await ChildProcess.RunAsync(curl, ["-sS", "--cacert", _ca.CaFile, "-o", "/dev/null", "-w", "%{http_code}", "--resolve",
            $"mta-sts.pub.test:443:{_ip}", "-H", "Host: mta-sts.nope.test", "https://mta-sts.pub.test/.well-known/mta-sts.txt"], ct: _ct);
        Assert.Equal("404", otherHost.Stdout);
    }

    [Fact]
    public async Task Unknown_or_missing_sni_gets_no_certificate_at_all()
    {
        string curl = TestBinaries.Require("curl");
        var unknown = await ChildProcess.RunAsync(curl, ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "--resolve",
            $"mta-sts.nope.test:443:{_ip}", "https://mta-sts.nope.test/.well-known/mta-sts.txt"], ct: _ct);
        Assert.Equal(35, unknown.ExitCode); // TLS handshake failed: nothing served, no certificate disclosed
        var noSni = await ChildProcess.RunAsync(curl, ["-sk", "-o", "/dev/null", $"https://{_ip}/.well-known/mta-sts.txt"], ct: _ct);
        Assert.Equal(35, noSni.ExitCode);
        Assert.DoesNotContain("Exception", _host.Output, StringComparison.Ordinal);
        // And the server still serves the known names afterwards.
        using var http = Client();
        Assert.StartsWith("version: STSv1", await http.GetStringAsync("https://mta-sts.pub.test/.well-known/mta-sts.txt", _ct));
    }

    [Fact]
    public async Task Head_through_curl_gets_the_headers_and_content_length_only()
    {
        string curl = TestBinaries.Require("curl");
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(curl, ["-sS", "-I", "--cacert", _ca.CaFile, "--resolve",
            $"mta-sts.pub.test:443:{_ip}", "https://mta-sts.pub.test/.well-known/mta-sts.txt"], ct: _ct);
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^HTTP/\S+ 200", stdout);
        Assert.Contains("content-type: text/plain", stdout, StringComparison.OrdinalIgnoreCase);
        int length = "version: STSv1\r\nmode: enforce\r\nmx: mx1.pub.test\r\nmx: *.backup.pub.test\r\nmax_age: 86400\r\n".Length;
        Assert.Contains($"content-length: {length}\r\n", stdout, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n", stdout); // headers only
    }

    [Fact]
    public async Task Port_80_serves_acme_challenges_of_our_names_and_nothing_else()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_dir, ".well-known", "acme-challenge")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "tok_en-1"), "tok_en-1.thumbprint", _ct);
        await File.WriteAllTextAsync(Path.Combine(_dir, "secret"), "not for the web", _ct);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(_ip, 80, ct);
                return new NetworkStream(s, true);
            },
            AllowAutoRedirect = false,
        });
        async Task<(HttpStatusCode, string)> Get(string url, HttpMethod? method = null)
        {
            using var r = await http.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, url), _ct);
            return (r.StatusCode, await r.Content.ReadAsStringAsync(_ct));
        }
        Assert.Equal((HttpStatusCode.OK, "tok_en-1.thumbprint"), await Get("http://mta-sts.pub.test/.well-known/acme-challenge/tok_en-1"));
        Assert.Equal((HttpStatusCode.OK, ""), await Get("http://mta-sts.other.test/.well-known/acme-challenge/tok_en-1", HttpMethod.Head));
        Assert.Equal(HttpStatusCode.NotFound, (await Get("http://mta-sts.nope.test/.well-known/acme-challenge/tok_en-1")).Item1);
        Assert.Equal(HttpStatusCode.NotFound, (await Get("http://mta-sts.pub.test/.well-known/acme-challenge/missing")).Item1);
        Assert.Equal(HttpStatusCode.NotFound, (await Get("http://mta-sts.pub.test/.well-known/acme-challenge/..%2F..%2Fsecret")).Item1);
        Assert.Equal(HttpStatusCode.NotFound, (await Get("http://mta-sts.pub.test/.well-known/mta-sts.txt")).Item1); // no plain-HTTP policy, no redirect
        Assert.Equal(HttpStatusCode.NotFound, (await Get("http://mta-sts.pub.test/")).Item1);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("garbage")]
    [InlineData("wrong-key")]
    public async Task Refuses_to_start_on_a_certificate_it_cannot_load(string problem)
    {
        string cert = CertFile("mta-sts.pub.test"), key = KeyFile("mta-sts.pub.test");
        switch (problem)
        {
            case "missing":
                cert = Path.Combine(_dir, "no-such.crt");
                break;
            case "garbage":
                cert = Path.Combine(_dir, "garbage.crt");
                await File.WriteAllTextAsync(cert, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", _ct);
                break;
            default:
                key = KeyFile("mx1.pub.test");
                break;
        }
        string config = Path.Combine(_dir, $"bad-{problem}.yaml");
        await File.WriteAllTextAsync(config, $"""
            publish:
              listen: ["{_ip}:8443"]
              domains:
                pub.test:
                  mx: [mx1.pub.test]
                  certificate: {cert}
                  key: {key}
            """, _ct);
        var (exit, stdout, stderr) = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["policy-host", "--config", config], _ct);
        // sysexits: 66 EX_NOINPUT for a missing file, 65 EX_DATAERR for one that is not a PEM certificate with its key.
        Assert.Equal(problem == "missing" ? 66 : 65, exit);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"portcullis: publish.domains.pub.test: {cert}", line);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_renewed_certificate_is_served_without_restart()
    {
        X509Certificate2? served = null;
        using (var http = Client(c => served = c))
            await http.GetStringAsync("https://mta-sts.other.test/.well-known/mta-sts.txt", _ct);
        string before = served!.SerialNumber;
        await Task.Delay(1100, _ct); // file times must differ
        WriteCert("mta-sts.other.test", _ca.IssueLeaf("mta-sts.other.test"));
        using (var http = Client(c => served = c))
            await http.GetStringAsync("https://mta-sts.other.test/.well-known/mta-sts.txt", _ct);
        Assert.NotEqual(before, served!.SerialNumber);
        for (int i = 0; i < 100 && !_host.Output.Contains("Loaded certificate for mta-sts.other.test", StringComparison.Ordinal); i++)
            await Task.Delay(50, _ct); // the log pipe may lag the response
        Assert.Contains("Loaded certificate for mta-sts.other.test", _host.Output);
    }

    [Fact]
    public async Task Records_and_policy_host_together_give_senders_a_valid_policy()
    {
        var (exit, zoneText, stderr) = await DaemonProcess.RunCliAsync(_ca.ChildEnvironment, ["records", "pub.test", "--config", _config], _ct);
        Assert.True(exit == 0, stderr);
        var txt = zoneText.Split('\n').Single(l => l.StartsWith("_mta-sts.pub.test.", StringComparison.Ordinal));
        Assert.Matches("^_mta-sts\\.pub\\.test\\.\\t3600\\tIN\\tTXT\\t\"v=STSv1; id=[0-9a-f]{20}\"$", txt);
        Assert.Contains("_smtp._tls.pub.test.\t3600\tIN\tTXT\t\"v=TLSRPTv1; rua=mailto:tlsrpt@pub.test\"", zoneText);
        using var mxCert = X509Certificate2.CreateFromPemFile(CertFile("mx1.pub.test"), KeyFile("mx1.pub.test"));
        string spki = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(mxCert.PublicKey.ExportSubjectPublicKeyInfo())).ToLowerInvariant();
        Assert.Contains($"_25._tcp.mx1.pub.test.\t3600\tIN\tTLSA\t3 1 1 {spki}", zoneText);

        // Publish exactly what `records` printed, then let Portcullis's own sender side fetch it.
        var w = new DnsWorldBuilder();
        w.Zone("pub.test").Add(txt.Replace("_mta-sts.pub.test.", "_mta-sts", StringComparison.Ordinal).Replace("\t3600\tIN", "", StringComparison.Ordinal))
            .A("mta-sts", _ip.ToString()).Mx("mx1.pub.test.").A("mx1");
        await using var dns = await w.StartAsync(_ct);
        var (qexit, json, qerr) = await DaemonProcess.RunQueryAsync(dns.ResolverEndpoint, _ca.ChildEnvironment, ["pub.test", "--json"], _ct);
        Assert.True(qexit == 0, qerr + json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("OK secure match=mx1.pub.test:.backup.pub.test servername=hostname", doc.RootElement.GetProperty("postfix_query").GetString());
    }
}
