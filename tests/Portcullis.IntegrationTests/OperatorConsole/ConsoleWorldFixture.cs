using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.OperatorConsole;

/// <summary>
/// One daemon with the console on loopback (bearer token), a signed DNS world with a DANE domain (queried once
/// so the cache holds it), TLS-RPT reports for an own domain over <see cref="ReportDays"/> days — one day with a
/// single failure among 1000 sessions — a report whose every string is HTML and script, and one generated report
/// pending delivery.
/// </summary>
public sealed class ConsoleWorldFixture : IAsyncLifetime
{
    public const string Token = "console-test-token-3f9a";
    public const string DaneDomain = "dane.console.test", OwnDomain = "own.console.test", HostileDomain = "hostile.console.test";
    public const int ReportDays = 6, OneInThousandDay = 3; // days ago
    public const int CertificateDays = 40;
    public const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    /// <summary>Would run if any report value were parsed as markup: sets window.__pwned.</summary>
    public const string Hostile = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>";

    public TestCa Ca { get; } = TestCa.Create();
    public TempDir Dir { get; } = new("console");
    public DnsWorld Dns { get; private set; } = null!;
    public DaemonProcess Daemon { get; private set; } = null!;
    public int ConsolePort { get; } = FreePort.Tcp();
    public int ReportPort { get; } = FreePort.Tcp();
    public string BaseUrl => $"http://127.0.0.1:{ConsolePort}";
    public DateOnly Today { get; } = DateOnly.FromDateTime(DateTime.UtcNow);

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var w = new DnsWorldBuilder();
        w.Zone("console.test").Mx($"mx.{DaneDomain}.", owner: "dane").A("mx.dane").Tlsa("_25._tcp.mx.dane", 3, 1, 1, Sha256);
        Dns = await w.StartAsync(cts.Token);

        using (var leaf = Ca.IssueLeaf([$"mta-sts.{OwnDomain}"], notAfter: DateTimeOffset.UtcNow.AddDays(CertificateDays).AddHours(1)))
        {
            await File.WriteAllTextAsync(Dir.File("own.pem"), leaf.ExportCertificatePem(), cts.Token);
            await File.WriteAllTextAsync(Dir.File("own.key"), leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), cts.Token);
        }
        await File.WriteAllTextAsync(Dir.File("console.token"), Token + "\n", cts.Token);
        await using (var sent = new Portcullis.Storage.Sessions.SessionStore(Dir.File("tlsrpt.db")))
        {
            await sent.AddReportAsync(Today.AddDays(-1), "peer.example", "sent-report-1", "portcullis.test", "{}",
                [new Core.TlsRpt.Sending.ReportDestination(Core.TlsRpt.Sending.DestinationKind.Mail, "tlsrpt@peer.example")],
                null, (41, 2), DateTimeOffset.UtcNow, cts.Token);
        }
        string yaml = $"""
            data_dir: {Dir.Path}
            mta_sts:
              allow_private_addresses: true
              fetch_timeout_ms: 5000
            tlsrpt:
              receive_listen: ["127.0.0.1:{ReportPort}"]
            console:
              listen: ["127.0.0.1:{ConsolePort}"]
              token_file: console.token
            publish:
              domains:
                {OwnDomain}: {"{"} mode: testing, mx: [mx.{OwnDomain}], certificate: {Dir.File("own.pem")}, key: {Dir.File("own.key")} {"}"}
            """;
        Daemon = await DaemonProcess.StartAsync(Dns.ResolverEndpoint, Ca.ChildEnvironment, Dir.File("cache.db"), yaml, cts.Token);
        // Ready means the socketmap port accepts; the HTTP listeners are bound in the same start, a moment apart.
        foreach (int port in new[] { ConsolePort, ReportPort })
            Assert.True(await FreePort.WaitUntilListeningAsync(port, 300, cts.Token), $"nothing listens on {port}:\n{Daemon.Output}");
        await using (var client = await SocketmapClient.ConnectAsync(Daemon.Port, cts.Token))
            Assert.StartsWith("OK dane-only", await client.QueryAsync("QUERY", DaneDomain, cts.Token));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        for (int ago = ReportDays; ago >= 1; ago--)
        {
            long failed = ago == OneInThousandDay ? 1 : ago == 1 ? 40 : 0;
            await PostAsync(http, Report($"own-{ago}", OwnDomain, Today.AddDays(-ago), "Reporter Inc", 1000 - failed, failed, "certificate-expired", "192.0.2.7", []), cts.Token);
        }
        await PostAsync(http, Report("hostile-1", HostileDomain, Today.AddDays(-1), Hostile, 5, 3, Hostile, Hostile, [Hostile, "mode: " + Hostile]), cts.Token);
    }

    private async Task PostAsync(HttpClient http, string json, CancellationToken ct)
    {
        using var r = await http.PostAsync($"http://127.0.0.1:{ReportPort}/tlsrpt", new StringContent(json, Encoding.UTF8, "application/tlsrpt+json"), ct);
        Assert.True(r.StatusCode == HttpStatusCode.Created, $"report not stored: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(ct)}");
    }

    private static string Q(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    public static string Report(string id, string domain, DateOnly day, string org, long ok, long failed, string resultType, string ip,
        IReadOnlyList<string> policyStrings)
    {
        string d = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string failures = failed == 0 ? "" : $$"""{"result-type":{{Q(resultType)}},"sending-mta-ip":{{Q(ip)}},"failed-session-count":{{failed}}}""";
        return $$"""
            {"organization-name":{{Q(org)}},"date-range":{"start-datetime":"{{d}}T00:00:00Z","end-datetime":"{{d}}T23:59:59Z"},
             "contact-info":"mailto:tlsrpt@reporter.example","report-id":{{Q(id)}},
             "policies":[{"policy":{"policy-type":"sts","policy-string":[{{string.Join(",", policyStrings.Select(Q))}}],"policy-domain":{{Q(domain)}}},
               "summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":{{failed}}},"failure-details":[{{failures}}]}]}
            """;
    }

    public async Task DisposeAsync()
    {
        if (Daemon is not null)
            await Daemon.DisposeAsync();
        if (Dns is not null)
            await Dns.DisposeAsync();
        Ca.Dispose();
        Dir.Dispose();
    }
}
