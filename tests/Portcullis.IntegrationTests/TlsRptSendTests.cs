using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The sending side end to end: libtlsrpt datagrams (byte for byte as the library writes them) sent to
/// the daemon's collect socket, counted, turned into RFC 8460 reports by `tlsrpt send`, mailed through
/// an SMTP server (a sink on loopback) and POSTed over HTTPS to a second Portcullis's report endpoint,
/// then parsed back by that receiver's own import and summary.
/// </summary>
public sealed class TlsRptSendTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-tlsrpt-send-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private readonly IPAddress _ip = IPAddress.Parse($"127.11.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}");
    private readonly TestCa _ca = TestCa.Create();
    private readonly System.Security.Cryptography.RSA _dkim = System.Security.Cryptography.RSA.Create(2048);

    /// <summary>Answers the DKIM key query for rpt._domainkey.sender.test with the test key.</summary>
    private sealed class DkimKey(System.Security.Cryptography.RSA rsa) : MimeKit.Cryptography.DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken ct = default) =>
            (domain, selector) == ("sender.test", "rpt") ? GetPublicKey("v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()))
                : throw new InvalidOperationException($"no DKIM key {selector}._domainkey.{domain}");

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken ct = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, ct));
    }
    private DnsWorld _dns = null!;

    public async Task InitializeAsync()
    {
        var w = new DnsWorldBuilder();
        w.Zone("rcv.test").A("reports", _ip.ToString());
        _dns = await w.StartAsync(_ct);
    }

    private static string Datagram(string domain, string rua, string policy, bool failed) => failed
        ? $$"""{"d": "{{domain}}","pr": "v=TLSRPTv1; rua={{rua}}","policies":[{"policy-type":{{policy}},"policy-domain": "{{domain}}","policy-string":["version: STSv1","mode: enforce","mx: mx.{{domain}}","max_age: 86400"],"mx-host":["mx.{{domain}}"],"failure-details":[{"c":204,"s": "192.0.2.10","n": "mx.{{domain}}","h": "mx.{{domain}}","r": "198.51.100.25","a": "certificate has expired","f": "X509_V_ERR_CERT_HAS_EXPIRED"}],"t":1,"f":1}]}"""
        : $$"""{"d": "{{domain}}","pr": "v=TLSRPTv1; rua={{rua}}","policies":[{"policy-type":{{policy}},"policy-domain": "{{domain}}","policy-string":["version: STSv1","mode: enforce","mx: mx.{{domain}}","max_age: 86400"],"mx-host":["mx.{{domain}}"],"t":0,"f":0}]}""";

    /// <summary>Sending configuration: the collecting daemon's database, a relay on loopback, DKIM.</summary>
    private string SendYaml(string db, int smtpPort, string extra = "")
    {
        string dkim = Path.Combine(_dir, "dkim.pem");
        File.WriteAllText(dkim, _dkim.ExportPkcs8PrivateKeyPem());
        return $"""
            tlsrpt:
              database: {db}
              send:
                enabled: true
                organization_name: Sender Test Org
                contact_info: mailto:postmaster@sender.test
                submitter: mta.sender.test
                mail_from: tlsrpt-noreply@sender.test
                smtp_server: 127.0.0.1:{smtpPort}
                allow_private_addresses: true
                dkim_key_file: {dkim}
                dkim_selector: rpt

            """ + extra;
    }

    /// <summary>The same as a file for `tlsrpt send`.</summary>
    private async Task<string> SendConfigAsync(string db, int smtpPort)
    {
        string path = Path.Combine(_dir, "send.yaml");
        await File.WriteAllTextAsync(path, SendYaml(db, smtpPort), _ct);
        return path;
    }

    [Fact]
    public async Task Datagrams_become_reports_delivered_by_mail_and_https_and_parsed_back()
    {
        // Receiver: a second Portcullis with an HTTPS report endpoint for reports.rcv.test.
        var cert = _ca.IssueLeaf("reports.rcv.test");
        string crt = Path.Combine(_dir, "reports.crt"), key = Path.Combine(_dir, "reports.key");
        await File.WriteAllTextAsync(crt, cert.ExportCertificatePem(), _ct);
        await File.WriteAllTextAsync(key, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), _ct);
        string rcvDir = Directory.CreateDirectory(Path.Combine(_dir, "receiver")).FullName;
        string rcvDb = Path.Combine(rcvDir, "tlsrpt.db");
        await using var receiver = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(rcvDir, "cache.db"),
            $"tlsrpt:\n  database: {rcvDb}\n  receive_listen: [\"{_ip}:8443\"]\n  receive_certificate: {crt}\n  receive_key: {key}\n", _ct);

        // Sender: the daemon collects; `tlsrpt send` (same database) reports.
        int smtpPort = FreePort.Tcp();
        await using var sink = new SmtpSink(IPAddress.Loopback, "relay.sender.test", TestCa.CreateSelfSigned("relay.sender.test"), port: smtpPort);
        string sock = Path.Combine(_dir, "tlsrpt.sock"), db = Path.Combine(_dir, "sender-tlsrpt.db");
        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"),
            $"socket_permissions: \"0666\"\ntlsrpt:\n  database: {db}\n  collect_socket: {sock}\n", _ct);
        Assert.True(await daemon.WaitForOutputAsync("Collecting TLS-RPT session results"), daemon.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite, File.GetUnixFileMode(sock));
        string sendConfig = await SendConfigAsync(db, smtpPort);

        using (var client = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
        {
            var to = new UnixDomainSocketEndPoint(sock);
            void Send(string d) => client.SendTo(Encoding.UTF8.GetBytes(d), to);
            for (int i = 0; i < 7; i++)
                Send(Datagram("mail.rcv.test", "mailto:tlsrpt@rcv.test", "2", failed: false));
            for (int i = 0; i < 3; i++)
                Send(Datagram("mail.rcv.test", "mailto:tlsrpt@rcv.test", "2", failed: true));
            for (int i = 0; i < 4; i++)
                Send(Datagram("web.rcv.test", "https://reports.rcv.test:8443/v1/tlsrpt", "1", failed: i == 0));
            Send("""{"dpv":"2","d":"x.test","policies":[]}""");
        }
        using var http = new HttpClient();
        string metrics = "";
        for (int i = 0; i < 100 && !metrics.Contains("portcullis_tlsrpt_datagrams_total{outcome=\"recorded\"} 14", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, _ct);
            metrics = await http.GetStringAsync($"http://127.0.0.1:{daemon.Port}/metrics", _ct);
        }
        Assert.Contains("portcullis_tlsrpt_datagrams_total{outcome=\"recorded\"} 14", metrics);
        Assert.Contains("portcullis_tlsrpt_datagrams_total{outcome=\"invalid\"} 1", metrics);
        Assert.Contains("portcullis_tlsrpt_outgoing_sessions_total{policy_type=\"sts\",result=\"failure\"} 3", metrics);
        Assert.True(await daemon.WaitForOutputAsync("Ignored TLS-RPT datagram (1 so far): unsupported datagram protocol version"), daemon.Output);

        var env = _ca.ChildEnvironment;
        var send = await DaemonProcess.RunCliAsync(env, ["tlsrpt", "send", "--day", "today", "--config", sendConfig, "--dns", _dns.ResolverEndpoint.ToString()], _ct);
        output.WriteLine("$ portcullis tlsrpt send --day today\n" + send.Stdout);
        Assert.True(send.ExitCode == 0, send.Stdout + send.Stderr);
        Assert.Contains("2 report(s) generated, 2 delivered, 0 not delivered", send.Stdout);

        // The mail: RFC 8460 §5.3 headers, subject, multipart/report with the gzip attachment.
        var sinkMessage = Assert.Single(sink.Messages);
        Assert.Equal(("tlsrpt@rcv.test", "tlsrpt-noreply@sender.test"), (sinkMessage.Recipient, sinkMessage.Sender));
        var mail = await MimeMessage.LoadAsync(new MemoryStream(Encoding.ASCII.GetBytes(sinkMessage.Data)), _ct);
        Assert.Equal("mail.rcv.test", mail.Headers["TLS-Report-Domain"]);
        Assert.Equal("mta.sender.test", mail.Headers["TLS-Report-Submitter"]);
        Assert.Equal("No", mail.Headers["TLS-Required"]);
        var signature = mail.Headers.Single(h => h.Id == HeaderId.DkimSignature);
        Assert.True(await new MimeKit.Cryptography.DkimVerifier(new DkimKey(_dkim)).VerifyAsync(mail, signature, _ct), signature.Value);
        Assert.Matches(@"^Report Domain: mail\.rcv\.test Submitter: mta\.sender\.test Report-ID: <\d{8}\.[0-9a-f]{12}@mta\.sender\.test>$", mail.Subject);
        var report = Assert.IsType<MultipartReport>(mail.Body);
        Assert.Equal("tlsrpt", report.ReportType);
        var attachment = report.OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip");
        Assert.Matches(@"^mta\.sender\.test!mail\.rcv\.test!\d+!\d+!\d{8}[0-9a-f]{12}\.json\.gz$", attachment.FileName); // RFC 8460 §5.1: unique-id is ALPHA/DIGIT only

        // Parsed back by the receiving Portcullis: the mail through `tlsrpt import`, the POST already stored.
        string eml = Path.Combine(_dir, "report.eml");
        await File.WriteAllTextAsync(eml, sinkMessage.Data, _ct);
        string rcvConfig = Path.Combine(rcvDir, $"portcullis-{receiver.Port}.yaml");
        var import = await DaemonProcess.RunCliAsync(env, ["tlsrpt", "import", eml, "--config", rcvConfig], _ct);
        Assert.True(import.ExitCode == 0, import.Stdout + import.Stderr);
        Assert.Contains("stored: report", import.Stdout);
        var summary = await DaemonProcess.RunCliAsync(env, ["tlsrpt", "summary", "--config", rcvConfig], _ct);
        var lines = summary.Stdout.Split('\n');
        string today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(lines, l => l.StartsWith($"{today} mail.rcv.test", StringComparison.Ordinal) && l.Contains("sts", StringComparison.Ordinal)
            && l.Contains("       7        3  certificate-expired 3 (192.0.2.10)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{today} web.rcv.test", StringComparison.Ordinal) && l.Contains("tlsa", StringComparison.Ordinal)
            && l.Contains("       3        1  certificate-expired 1 (192.0.2.10)", StringComparison.Ordinal));

        // Bookkeeping: both deliveries sent; a second run sends nothing again.
        var sent = await DaemonProcess.RunCliAsync(env, ["tlsrpt", "sent", "--config", sendConfig], _ct);
        output.WriteLine("$ portcullis tlsrpt sent\n" + sent.Stdout);
        Assert.Contains(sent.Stdout.Split('\n'), l => l.Contains("mail.rcv.test                        7       3 sent         1  mailto:tlsrpt@rcv.test", StringComparison.Ordinal));
        Assert.Contains(sent.Stdout.Split('\n'), l => l.Contains("web.rcv.test", StringComparison.Ordinal) && l.Contains("sent", StringComparison.Ordinal) && l.Contains("https://reports.rcv.test:8443/v1/tlsrpt", StringComparison.Ordinal));
        var again = await DaemonProcess.RunCliAsync(env, ["tlsrpt", "send", "--day", "today", "--config", sendConfig, "--dns", _dns.ResolverEndpoint.ToString()], _ct);
        Assert.Contains("0 report(s) generated, 0 delivered", again.Stdout);
        Assert.Single(sink.Messages);
    }

    [Fact]
    public async Task A_flood_of_datagrams_is_counted_without_loss_and_the_socketmap_still_answers()
    {
        string sock = Path.Combine(_dir, "flood.sock"), db = Path.Combine(_dir, "flood.db");
        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"),
            $"tlsrpt:\n  database: {db}\n  collect_socket: {sock}\n", _ct);
        Assert.True(await daemon.WaitForOutputAsync("Collecting TLS-RPT session results"), daemon.Output);
        const int N = 20_000;
        var ok = Encoding.UTF8.GetBytes(Datagram("flood.rcv.test", "mailto:r@flood.rcv.test", "2", failed: false));
        var bad = Encoding.UTF8.GetBytes(Datagram("flood.rcv.test", "mailto:r@flood.rcv.test", "1", failed: true));
        using (var client = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
        {
            // Blocking sends (libtlsrpt's are non-blocking): the test measures loss inside the daemon only.
            var to = new UnixDomainSocketEndPoint(sock);
            for (int i = 0; i < N; i++)
                client.SendTo(i % 10 == 0 ? bad : ok, to);
        }
        // Meanwhile Postfix's lookups go on.
        await using (var c = await daemon.ConnectAsync(_ct))
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", "[192.0.2.1]", _ct));
        using var http = new HttpClient();
        string metrics = "";
        for (int i = 0; i < 300 && !metrics.Contains($"portcullis_tlsrpt_datagrams_total{{outcome=\"recorded\"}} {N}", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, _ct);
            metrics = await http.GetStringAsync($"http://127.0.0.1:{daemon.Port}/metrics", _ct);
        }
        Assert.Contains($"portcullis_tlsrpt_datagrams_total{{outcome=\"recorded\"}} {N}", metrics);
        Assert.DoesNotContain("outcome=\"dropped\"", metrics);
        Assert.Equal(0, await daemon.StopAsync(_ct));
        using var store = new Portcullis.Storage.Sessions.SessionStore(db);
        var tallies = await store.TalliesAsync(DateOnly.FromDateTime(DateTime.UtcNow), "flood.rcv.test", _ct);
        Assert.Equal((N - N / 10L, 0L), (tallies.Single(t => t.Policy.PolicyType == "sts").Successful, tallies.Single(t => t.Policy.PolicyType == "sts").Failed));
        Assert.Equal((0L, N / 10L), (tallies.Single(t => t.Policy.PolicyType == "tlsa").Successful, tallies.Single(t => t.Policy.PolicyType == "tlsa").Failed));
    }

    [Fact]
    public async Task The_daemon_reports_a_finished_day_by_itself()
    {
        // Yesterday's sessions, counted as the collector would have (same store code, same file).
        string db = Path.Combine(_dir, "daemon-tlsrpt.db");
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        using (var store = new Portcullis.Storage.Sessions.SessionStore(db))
        {
            var e = Portcullis.Core.TlsRpt.Sending.DatagramParser.Parse(
                Encoding.UTF8.GetBytes(Datagram("late.rcv.test", "mailto:tlsrpt@late.rcv.test", "2", failed: true))).Event!;
            await store.RecordAsync([(yesterday, e), (yesterday, e)], _ct);
        }
        int smtpPort = FreePort.Tcp();
        await using var sink = new SmtpSink(IPAddress.Loopback, "relay.sender.test", TestCa.CreateSelfSigned("relay.sender.test"), port: smtpPort);
        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"),
            SendYaml(db, smtpPort, "    send_after: 0\n    spread: 0\n"), _ct);
        Assert.True(await daemon.WaitForOutputAsync("delivered", TimeSpan.FromSeconds(30)), daemon.Output);
        var message = Assert.Single(sink.Messages);
        Assert.Equal("tlsrpt@late.rcv.test", message.Recipient);
        var mail = await MimeMessage.LoadAsync(new MemoryStream(Encoding.ASCII.GetBytes(message.Data)), _ct);
        var part = Assert.IsType<MultipartReport>(mail.Body).OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip");
        using var gz = new MemoryStream();
        await part.Content!.DecodeToAsync(gz, _ct);
        using var unzip = new System.IO.Compression.GZipStream(new MemoryStream(gz.ToArray()), System.IO.Compression.CompressionMode.Decompress);
        var report = Portcullis.Core.TlsRpt.TlsRptParser.Parse(Encoding.UTF8.GetBytes(await new StreamReader(unzip).ReadToEndAsync(_ct))).Report!;
        Assert.Equal(new DateTimeOffset(yesterday.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), report.Start);
        Assert.Equal(("sts", 0L, 2L), (report.Policies[0].PolicyType, report.Policies[0].Successful, report.Policies[0].Failed));
        Assert.Equal(("certificate-expired", 2L), (report.Policies[0].Failures[0].ResultType, report.Policies[0].Failures[0].FailedSessions));
    }

    [Fact]
    public async Task An_unreachable_destination_is_kept_for_retry_and_reported()
    {
        string db = Path.Combine(_dir, "tlsrpt.db");
        string sendConfig = await SendConfigAsync(db, FreePort.Tcp()); // nothing listens there
        // Count through a collector daemon, then report with the CLI on the same database.
        string sock = Path.Combine(_dir, "c.sock");
        await using (var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"),
            $"tlsrpt:\n  database: {db}\n  collect_socket: {sock}\n", _ct))
        {
            Assert.True(await daemon.WaitForOutputAsync("Collecting TLS-RPT session results"), daemon.Output);
            using var client = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            client.SendTo(Encoding.UTF8.GetBytes(Datagram("down.rcv.test", "mailto:r@down.rcv.test", "2", failed: false)), new UnixDomainSocketEndPoint(sock));
            Assert.Equal(0, await daemon.StopAsync(_ct)); // a clean stop writes what was received
        }
        // Sending is refused outright when not configured: no report without its required identity.
        string collectOnly = Path.Combine(_dir, "collect-only.yaml");
        await File.WriteAllTextAsync(collectOnly, $"tlsrpt:\n  database: {db}\n", _ct);
        var refused = await DaemonProcess.RunCliAsync(_ca.ChildEnvironment, ["tlsrpt", "send", "--day", "today", "--config", collectOnly], _ct);
        Assert.Equal(78, refused.ExitCode);
        Assert.Contains("tlsrpt.send.enabled is false", refused.Stderr);

        var send = await DaemonProcess.RunCliAsync(_ca.ChildEnvironment, ["tlsrpt", "send", "--day", "today", "--config", sendConfig], _ct);
        Assert.Equal(1, send.ExitCode);
        Assert.Contains("1 report(s) generated, 0 delivered, 1 not delivered", send.Stdout);
        Assert.Contains("(retry at ", send.Stdout);
        var sent = await DaemonProcess.RunCliAsync(_ca.ChildEnvironment, ["tlsrpt", "sent", "--config", sendConfig], _ct);
        Assert.Contains(sent.Stdout.Split('\n'), l => l.Contains("down.rcv.test", StringComparison.Ordinal) && l.Contains("pending", StringComparison.Ordinal)
            && l.Contains("Connection refused", StringComparison.OrdinalIgnoreCase));
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        _ca.Dispose();
        _dkim.Dispose();
        Directory.Delete(_dir, true);
    }
}
