using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// `rollout` and `rollout status` against real servers: knotd as primary (TSIG-signed RFC 2136 updates, online
/// DNSSEC signing) and secondary (NOTIFY + transfer), the real `policy-host` on port 443 of a loopback address,
/// and the real nsupdate. The primary also answers the HTTPS check's lookup of mta-sts.roll.test (dns.server).
/// </summary>
public sealed partial class RolloutTests : IAsyncLifetime
{
    private const string Zone = "roll.test";
    private readonly TestCa _ca = TestCa.Create();
    private readonly TempDir _dir = new("portcullis-rollout-");
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(4)).Token;
    private readonly IPAddress _web = IPAddress.Parse($"127.9.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}");
    private readonly string _secret = KnotServer.NewSecret();
    private KnotServer _primary = null!, _secondary = null!;
    private ChildProcess _policyHost = null!;
    private string _initialId = "";

    private string DataDir => _dir.File("data");

    // `records` runs before the servers exist: any address does for it.
    private string PrimaryText => _primary is null ? "127.0.0.1:1" : _primary.Endpoint.ToString();

    private string Verify => _primary is null ? "" : $"\"{_primary.Endpoint}\", \"{_secondary.Endpoint}\"";

    private string Config(string name = "portcullis.yaml", string? server = null, string keyFile = "tsig.key", string? dataDir = null)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, $"""
            data_dir: {dataDir ?? DataDir}
            dns:
              server: "{PrimaryText}"
              timeout_ms: 3000
            mta_sts:
              allow_private_addresses: true
            publish:
              listen: ["{_web}:443"]
              domains:
                {Zone}:
                  mode: testing
                  mx: [mx1.{Zone}]
                  max_age: 86400
                  max_age_steps: [86400, 604800]
                  certificate: {_dir.File("mta-sts.crt")}
                  key: {_dir.File("mta-sts.key")}
                  dns_update:
                    server: "{server ?? PrimaryText}"
                    tsig_key_file: {_dir.File(keyFile)}
                    verify: [{Verify}]
                    timeout_ms: 3000
                    verify_timeout: 60
            """);
        return path;
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Cli(params string[] args) => DaemonProcess.RunCliAsync(_ca.ChildEnvironment, args, _ct);

    public async Task InitializeAsync()
    {
        using (var leaf = _ca.IssueLeaf("mta-sts." + Zone))
        {
            File.WriteAllText(_dir.File("mta-sts.crt"), leaf.ExportCertificatePem());
            File.WriteAllText(_dir.File("mta-sts.key"), leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }
        File.WriteAllText(_dir.File("tsig.key"), KnotServer.NsupdateKeyFile(_secret));
        File.WriteAllText(_dir.File("wrong.key"), KnotServer.NsupdateKeyFile(KnotServer.NewSecret()));
        // The id of the configured testing policy, as `records` prints it: the zone starts out published by hand.
        var (rc, records, err) = await Cli("records", Zone, "--config", Config());
        Assert.True(rc == 0, err);
        _initialId = IdIn().Match(records).Groups[1].Value;
        int p = FreePort.TcpAndUdp(), s = FreePort.TcpAndUdp();
        string zone = $"""
            @ NS ns1.{Zone}.
            @ NS ns2.{Zone}.
            ns1 A 127.0.0.1
            ns2 A 127.0.0.1
            @ MX 10 mx1.{Zone}.
            mx1 A {_web}
            mta-sts A {_web}
            _mta-sts TXT "v=STSv1; id={_initialId}"
            """;
        _secondary = await KnotServer.StartSecondaryAsync(Zone, s, new IPEndPoint(IPAddress.Loopback, p), _ct);
        _primary = await KnotServer.StartPrimaryAsync(Zone, zone + "\n", _secret, p, _secondary.Endpoint, _ct);
        await WaitForAsync(_secondary.Endpoint, _initialId);
        _policyHost = ChildProcess.Start(DaemonProcess.Command[0], [.. DaemonProcess.Command.Skip(1), "policy-host", "--config", Config()], _dir.Path, _ca.ChildEnvironment);
        for (int i = 0; ; i++)
        {
            try
            {
                using var t = new TcpClient();
                await t.ConnectAsync(_web, 443, _ct);
                break;
            }
            catch (SocketException) when (i < 300)
            {
                Assert.False(_policyHost.HasExited, _policyHost.Output);
                await Task.Delay(100, _ct);
            }
        }
    }

    public async Task DisposeAsync()
    {
        await _policyHost.DisposeAsync();
        await _primary.DisposeAsync();
        await _secondary.DisposeAsync();
        _ca.Dispose();
        _dir.Dispose();
    }

    /// <summary>The TXT answer of one server, asked directly with dig (with +dnssec: the RRSIG lines too).</summary>
    private async Task<string> DigAsync(IPEndPoint server, bool dnssec = false)
    {
        var (_, o, _) = await ChildProcess.RunAsync("dig", ["+short", "+time=2", "+tries=1", .. (dnssec ? ["+dnssec"] : Array.Empty<string>()),
            "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "@" + server.Address, "_mta-sts." + Zone, "TXT"], ct: _ct);
        return o.Trim();
    }

    private async Task WaitForAsync(IPEndPoint server, string id)
    {
        for (int i = 0; i < 300 && !(await DigAsync(server)).Contains(id, StringComparison.Ordinal); i++)
            await Task.Delay(200, _ct);
        Assert.Contains(id, await DigAsync(server));
    }

    /// <summary>The policy file policy-host serves now, over real HTTPS (SNI mta-sts.roll.test, the test CA).</summary>
    private async Task<string> ServedAsync()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var sock = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await sock.ConnectAsync(_web, 443, ct);
                return new NetworkStream(sock, true);
            },
            SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && _ca.CreateChainPolicy() is { } policy
                && new X509Chain { ChainPolicy = policy }.Build(new X509Certificate2(c)) },
        }) { Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetStringAsync($"https://mta-sts.{Zone}/.well-known/mta-sts.txt", _ct);
    }

    [GeneratedRegex(@"id=([0-9a-f]{20})")]
    private static partial Regex IdIn();

    /// <summary>"Rollout of D: FROM (id X) -> TO (id Y)": match 1 is the new id.</summary>
    [GeneratedRegex(@"\(id ([0-9a-f]{20})\)")]
    private static partial Regex NewId();

    [Fact]
    public async Task Testing_to_enforce_then_max_age_step_updates_both_servers_signed_and_refuses_a_repeat()
    {
        string config = Config();
        var dry = await Cli("rollout", Zone, "--to", "enforce", "--dry-run", "--config", config);
        Assert.True(dry.ExitCode == 0, dry.Stdout + dry.Stderr);
        Assert.Contains("[3/4] update the _mta-sts TXT record (RFC 2136, TSIG)", dry.Stdout);
        Assert.Contains("Dry run: nothing changed.", dry.Stdout);
        Assert.False(Directory.Exists(Path.Combine(DataDir, "rollout")));
        Assert.Contains(_initialId, await DigAsync(_primary.Endpoint));

        var run = await Cli("rollout", Zone, "--to", "enforce", "--config", config);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr + _primary.Log);
        string newId = NewId().Matches(run.Stdout)[1].Groups[1].Value; // "-> mode enforce, max_age 86400 (id …)"
        Assert.NotEqual(_initialId, newId);
        Assert.Contains("mode: enforce\r\n", await ServedAsync());
        Assert.Contains("max_age: 86400\r\n", await ServedAsync()); // the first max_age step
        Assert.Equal($"\"v=STSv1; id={newId}\"", await DigAsync(_primary.Endpoint));
        Assert.Equal($"\"v=STSv1; id={newId}\"", await DigAsync(_secondary.Endpoint));
        Assert.Contains("RRSIG", (await ChildProcess.RunAsync("dig", ["+dnssec", "-p", _primary.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "@127.0.0.1", "_mta-sts." + Zone, "TXT"], ct: _ct)).Stdout); // signed online by knot after the update

        var again = await Cli("rollout", Zone, "--to", "enforce", "--config", config);
        Assert.Equal(64, again.ExitCode);
        Assert.Equal($"portcullis: {Zone} already publishes mode enforce, max_age 86400 (id {newId}): nothing to change; raise max_age with --max-age 604800",
            again.Stderr.Trim());

        var step = await Cli("rollout", Zone, "--to", "enforce", "--max-age", "604800", "--config", config);
        Assert.True(step.ExitCode == 0, step.Stdout + step.Stderr);
        Assert.Contains("max_age: 604800\r\n", await ServedAsync());
        // Reports received (imported into the same store): three days, two organisations, one with failures at mx1.
        string reports = Directory.CreateDirectory(_dir.File("reports")).FullName;
        var today = DateTime.UtcNow.Date;
        for (int d = 1; d <= 3; d++)
        {
            string day = today.AddDays(-d).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (org, ok, failed) in new[] { ("google.com", 400, d == 1 ? 8 : 0), ("Microsoft Corporation", 100, 0) })
            {
                string details = failed == 0 ? "" : $$""","failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.1","receiving-mx-hostname":"mx1.{{Zone}}","failed-session-count":{{failed}}}]""";
                File.WriteAllText(Path.Combine(reports, $"{org[..3]}-{d}.json"), $$"""
                    {"organization-name":"{{org}}","date-range":{"start-datetime":"{{day}}T00:00:00Z","end-datetime":"{{day}}T23:59:59Z"},
                     "contact-info":"mailto:tlsrpt@{{org.Replace(' ', '-')}}","report-id":"{{org[..3]}}-{{day}}",
                     "policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mx1.{{Zone}}","max_age: 86400"],
                       "policy-domain":"{{Zone}}","mx-host":["mx1.{{Zone}}"]},
                       "summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":{{failed}}}{{details}}}]}
                    """);
            }
        }
        var imported = await Cli("tlsrpt", "import", reports, "--config", config);
        Assert.True(imported.ExitCode == 0, imported.Stdout + imported.Stderr);
        var status = await Cli("rollout", "status", Zone, "--config", config);
        Assert.Contains("rollout:    none in progress", status.Stdout);
        Assert.Equal(2, Regex.Matches(status.Stdout, @"DNS: .* answers id [0-9a-f]{20} \(the served policy\)").Count);
        Assert.Contains("testing -> enforce: NOT YET", status.Stdout);
        Assert.True(status.Stdout.Contains("MISS days covered: 3 day(s) with reports", StringComparison.Ordinal), status.Stdout + imported.Stdout); // 3 < 7
        Assert.Contains("ok   reporting organisations: 2 (Microsoft Corporation, google.com); need 2", status.Stdout);
        Assert.Contains("ok   sessions: 1508 in 6 report(s) (1500 successful, 8 failed); need 100", status.Stdout);
        Assert.Contains("ok   failure rate certificate-expired: 0.531% (8 of 1508 sessions); at most 1%", status.Stdout);
        Assert.Contains($"ok   failure rate at mx1.{Zone}: 0.531%", status.Stdout);
        Assert.Contains($"ok   mx1.{Zone} covered", status.Stdout);
        Assert.Contains($"MISS mx1.{Zone} certificate", status.Stdout); // nothing listens on its port 25
        Assert.Equal(1, status.ExitCode);
    }

    [Fact]
    public async Task A_wrong_tsig_key_is_refused_nothing_changes_in_dns_and_rollback_restores_the_file()
    {
        string config = Config("wrong.yaml", keyFile: "wrong.key");
        var run = await Cli("rollout", Zone, "--to", "enforce", "--config", config);
        Assert.Equal(1, run.ExitCode);
        Assert.Matches("update the _mta-sts TXT record .*: FAILED: .*(BADSIG|BADKEY|NOTAUTH)", run.Stdout);
        Assert.Contains("the _mta-sts record was not changed", run.Stdout);
        Assert.Equal($"\"v=STSv1; id={_initialId}\"", await DigAsync(_primary.Endpoint));
        Assert.Equal($"\"v=STSv1; id={_initialId}\"", await DigAsync(_secondary.Endpoint));
        Assert.Contains("mode: enforce", await ServedAsync()); // the file first: served, its id not published

        var status = await Cli("rollout", "status", Zone, "--config", config);
        Assert.Contains("the _mta-sts id was NOT bumped", status.Stdout);
        var other = await Cli("rollout", Zone, "--to", "none", "--config", config);
        Assert.Equal(64, other.ExitCode);
        Assert.Contains("is in progress since", other.Stderr);

        var back = await Cli("rollout", Zone, "--rollback", "--config", config);
        Assert.True(back.ExitCode == 0, back.Stdout + back.Stderr);
        Assert.Contains("already answers id " + _initialId, back.Stdout); // nothing to send with the wrong key
        Assert.Contains("mode: testing", await ServedAsync());
    }

    [Fact]
    public async Task An_unreachable_primary_leaves_the_file_served_and_the_id_unbumped_and_the_same_command_resumes()
    {
        int closed = FreePort.TcpAndUdp();
        string config = Config("down.yaml", server: $"127.0.0.1:{closed}");
        var run = await Cli("rollout", Zone, "--to", "enforce", "--config", config);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("[3/4] update the _mta-sts TXT record (RFC 2136, TSIG): FAILED", run.Stdout);
        Assert.Contains("mode: enforce", await ServedAsync());
        Assert.Contains(_initialId, await DigAsync(_primary.Endpoint));

        var status = await Cli("rollout", "status", Zone, "--config", config);
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("next: [3/4] update the _mta-sts TXT record (RFC 2136, TSIG)", status.Stdout);
        Assert.Contains("the _mta-sts id was NOT bumped", status.Stdout);
        Assert.Contains($"answers id {_initialId} (NOT the served policy)", status.Stdout);

        // The primary is back (the right address in the configuration): the same command resumes at step 3.
        var resumed = await Cli("rollout", Zone, "--to", "enforce", "--config", Config("up.yaml"));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains("(resumed)", resumed.Stdout);
        Assert.DoesNotContain("[1/4]", resumed.Stdout);
        await WaitForAsync(_secondary.Endpoint, NewId().Matches(resumed.Stdout)[1].Groups[1].Value);
    }

    [Fact]
    public async Task Bad_requests_are_one_line_errors_and_change_nothing()
    {
        string config = Config();
        var unknown = await Cli("rollout", "nope.test", "--to", "enforce", "--config", config);
        Assert.Equal((64, "portcullis: nope.test is not in publish.domains of the configuration; nothing changed"), (unknown.ExitCode, unknown.Stderr.Trim()));
        var mode = await Cli("rollout", Zone, "--to", "strict", "--config", config);
        Assert.Equal((64, "portcullis: --to 'strict': expected enforce, testing or none"), (mode.ExitCode, mode.Stderr.Trim()));
        var same = await Cli("rollout", Zone, "--to", "testing", "--config", config);
        Assert.Equal(64, same.ExitCode);
        Assert.Contains("already publishes mode testing, max_age 86400", same.Stderr);
        var noPrimary = await Cli("rollout", Zone, "--to", "enforce", "--config", Config("noprimary.yaml", server: ""));
        Assert.Equal((78, $"portcullis: publish.domains.{Zone}.dns_update.server is not set: the primary of zone {Zone} is unknown; nothing changed"),
            (noPrimary.ExitCode, noPrimary.Stderr.Trim()));
        foreach (var r in new[] { unknown, mode, same, noPrimary })
            Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(DataDir, "rollout")));

        // A policy host that does not serve the new file (it reads another data_dir): stopped before DNS.
        var notServed = await Cli("rollout", Zone, "--to", "enforce", "--config", Config("elsewhere.yaml", dataDir: _dir.File("elsewhere")));
        Assert.Equal(1, notServed.ExitCode);
        Assert.Contains("[2/4] fetch it back over HTTPS: FAILED", notServed.Stdout);
        Assert.Contains("serves another policy (mode testing, max_age 86400)", notServed.Stdout);
        Assert.Equal($"\"v=STSv1; id={_initialId}\"", await DigAsync(_primary.Endpoint));
    }
}
