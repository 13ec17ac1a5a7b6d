using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The daemon monitors its own domains (publish.domains) against the test world: a signed zone, the HTTPS
/// policy host and STARTTLS sinks on port 25. Gauges are scraped from /metrics; a change in the world flips them.
/// </summary>
public sealed class OwnDomainMonitoringTests : IAsyncLifetime
{
    private const string Good = "good.mon.test", Expiring = "expiring.mon.test";
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(6)).Token;
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-monitor-").FullName;
    private readonly List<SmtpSink> _sinks = [];
    private readonly int _net = Random.Shared.Next(1, 250);
    private readonly TestCa _ca = TestCa.Create();
    private PolicyHost _host = null!;
    private DnsWorld _dns = null!;

    private static readonly string Policy = "version: STSv1\r\nmode: enforce\r\nmx: mx.good.mon.test\r\nmax_age: 604800\r\n";

    private string Ip(int n) => $"127.11.{_net}.{n}";

    public async Task InitializeAsync()
    {
        _host = PolicyHost.Start(_ca);
        var goodCert = _ca.IssueLeaf("mx.good.mon.test");
        var soonCert = _ca.IssueLeaf(["mx.expiring.mon.test"], DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(5));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(1)), "mx.good.mon.test", goodCert));
        _sinks.Add(new SmtpSink(IPAddress.Parse(Ip(2)), "mx.expiring.mon.test", soonCert));
        string spki = Convert.ToHexString(SHA256.HashData(goodCert.PublicKey.ExportSubjectPublicKeyInfo())).ToLowerInvariant();

        var w = new DnsWorldBuilder();
        w.Zone("mon.test")
            .Mx("mx.good.mon.test.", owner: "good").A("mx.good", Ip(1)).Tlsa("_25._tcp.mx.good", 3, 1, 1, spki)
            .MtaSts("m1", "good").A("mta-sts.good", _host.Address.ToString()).Txt("_smtp._tls.good", "v=TLSRPTv1; rua=mailto:tlsrpt@good.mon.test")
            .Mx("mx.expiring.mon.test.", owner: "expiring").A("mx.expiring", Ip(2));
        _host.Set("mta-sts.good.mon.test", HostBehavior.Policy(Policy));
        _dns = await w.StartAsync(_ct);
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _sinks)
            await s.DisposeAsync();
        await _dns.DisposeAsync();
        await _host.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task The_daemon_checks_its_own_domains_exports_gauges_and_logs_each_state_change_once()
    {
        int metricsPort = FreePort.Tcp();
        string yaml = $"data_dir: {_dir}\nmta_sts:\n  allow_private_addresses: true\nmetrics:\n  listen: [\"127.0.0.1:{metricsPort}\"]\n"
            + "monitoring:\n  interval: 10\npublish:\n  domains:\n"
            + $"    {Good}: {{ mode: enforce, mx: [mx.good.mon.test] }}\n    {Expiring}: {{ mode: testing, mx: [mx.expiring.mon.test] }}\n";
        string config = Path.Combine(_dir, "import.yaml");
        await File.WriteAllTextAsync(config, yaml, _ct);
        // A TLS-RPT report about yesterday, stored the way an operator imports the report mailbox.
        string yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string report = Path.Combine(_dir, "report.json");
        await File.WriteAllTextAsync(report, $$$"""
            {"organization-name":"Sender","date-range":{"start-datetime":"{{{yesterday}}}T00:00:00Z","end-datetime":"{{{yesterday}}}T23:59:59Z"},
             "contact-info":"tlsrpt@sender.example","report-id":"mon-1",
             "policies":[{"policy":{"policy-type":"sts","policy-domain":"{{{Good}}}","mx-host":["mx.{{{Good}}}"]},
                          "summary":{"total-successful-session-count":5,"total-failure-session-count":0}}]}
            """, _ct);
        var import = await DaemonProcess.RunCliAsync(_ca.ChildEnvironment, ["tlsrpt", "import", report, "--config", config], _ct);
        Assert.True(import.ExitCode == 0, import.Stdout + import.Stderr);

        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"), yaml, _ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        async Task<Dictionary<string, double>> Scrape() => MetricsTests.Parse(await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics", _ct));
        string Check(string domain, string check) => $"portcullis_own_domain_check{{check=\"{check}\",domain=\"{domain}\"}}";
        async Task<Dictionary<string, double>> Until(Func<Dictionary<string, double>, bool> condition, string what)
        {
            // Runs come every 10 s (±1 s); a loaded machine gets minutes.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var m = await Scrape();
                if (condition(m))
                    return m;
                Assert.True(DateTime.UtcNow < deadline, $"{what}; last scrape:\n{string.Join('\n', m.Where(kv => kv.Key.Contains("own_domain")))}\n{daemon.Output}");
                await Task.Delay(500, _ct);
            }
        }
        string[] checks = ["mx", "dnssec", "mta_sts_record", "mta_sts_policy", "mx_coverage", "starttls", "certificate", "tlsa", "tlsrpt_record"];

        var m = await Until(m => m.ContainsKey(Check(Good, "mx")) && m.ContainsKey(Check(Expiring, "mx")), "first run");
        foreach (string c in checks)
            Assert.True(m[Check(Good, c)] == 1, $"{c}: {daemon.Output}");
        // The other domain only has warnings (no MTA-STS, TLSA or TLS-RPT record; a certificate 5 days from expiry): nothing fails.
        Assert.All(checks, c => Assert.Equal(1, m[Check(Expiring, c)]));
        Assert.InRange(m[$"portcullis_own_domain_certificate_days{{domain=\"{Expiring}\",kind=\"mx\"}}"], 4, 5.01);
        Assert.True(m[$"portcullis_own_domain_certificate_days{{domain=\"{Good}\",kind=\"mx\"}}"] > 14);
        Assert.True(m[$"portcullis_own_domain_certificate_days{{domain=\"{Good}\",kind=\"mta-sts\"}}"] > 0);
        Assert.False(m.ContainsKey($"portcullis_own_domain_certificate_days{{domain=\"{Expiring}\",kind=\"mta-sts\"}}")); // no policy host
        Assert.InRange(m[$"portcullis_own_domain_tlsrpt_report_age_days{{domain=\"{Good}\"}}"], 0, 1);
        Assert.Equal(-1, m[$"portcullis_own_domain_tlsrpt_report_age_days{{domain=\"{Expiring}\"}}"]);
        Assert.True(await daemon.WaitForOutputAsync($"Own domain {Good} monitored: 0 of 9 checks failing (every 10 s)"), daemon.Output);
        // Labels name only the configured domains: not the MX hosts, not the policy host.
        Assert.DoesNotContain(m.Keys, k => k.Contains("own_domain", StringComparison.Ordinal) && k.Contains("mx.", StringComparison.Ordinal));

        // The policy host stops serving the policy: the next run flips the gauge, and the log says so once.
        _host.Set("mta-sts.good.mon.test", HostBehavior.NotFound());
        m = await Until(m => m[Check(Good, "mta_sts_policy")] == 0, "policy fetch failure noticed");
        Assert.Equal(1, m[Check(Good, "mx")]);
        double flipped = m[$"portcullis_own_domain_last_check_timestamp_seconds{{domain=\"{Good}\"}}"];
        await Until(m => m[$"portcullis_own_domain_last_check_timestamp_seconds{{domain=\"{Good}\"}}"] > flipped, "another run");
        string failing = $"Own domain {Good}: check mta_sts_policy FAILING: policy fetch: ";
        Assert.Equal(1, Count(daemon.Output, failing));

        // Served again: back to 1, with one "passes again".
        _host.Set("mta-sts.good.mon.test", HostBehavior.Policy(Policy));
        await Until(m => m[Check(Good, "mta_sts_policy")] == 1, "recovery noticed");
        Assert.True(await daemon.WaitForOutputAsync($"Own domain {Good}: check mta_sts_policy passes again"), daemon.Output);
        Assert.Equal(1, Count(daemon.Output, $"Own domain {Good}: check mta_sts_policy passes again"));
        Assert.Equal(1, Count(daemon.Output, failing));
        Assert.Equal(0, Count(daemon.Output, $"Own domain {Expiring}: check"));
    }

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;
}
