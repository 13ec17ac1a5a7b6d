using System.Net;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The DNSSEC world for the doctor: its validating unbound also listens on 127.53.X.Y:53, because a resolv.conf
/// nameserver has no port. Nothing else listens there (outside a network namespace, on a random loopback address).
/// </summary>
public sealed class DoctorWorldFixture : IAsyncLifetime
{
    public DnsWorld Dns { get; private set; } = null!;
    public IPAddress Nameserver { get; } = IPAddress.Parse($"127.53.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}");

    public async Task InitializeAsync() =>
        Dns = await new DnsWorldBuilder { ResolverAddress53 = Nameserver }.StartAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

    public async Task DisposeAsync() => await Dns.DisposeAsync();
}

/// <summary>
/// `portcullis doctor` against a daemon started by the test, the host's Postfix 3.7 (its own config directory) and
/// the trixie root's Postfix 3.10 (postfix-setup --apply in an overlay copy, postconf/postmap through chroot
/// wrappers): a working set-up is all ok with exit 0; each broken variant gives the exact FAIL (or warn) line.
/// </summary>
public sealed class DoctorTests(DoctorWorldFixture world) : IClassFixture<DoctorWorldFixture>
{
    private const string Domain = "portcullis-doctor.invalid";
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(10)).Token;
    private string GoodResolvConf => $"nameserver {world.Nameserver}\noptions trust-ad\n";

    /// <summary>Host Postfix: /etc/resolv.conf is the test's file, bind-mounted in a private mount namespace (the host's stays untouched).</summary>
    private async Task<(int Exit, string[] Lines, string All)> DoctorOnHostAsync(string resolvConf, string configDir, string config)
    {
        using var dir = new TempDir("doctor-resolv");
        await File.WriteAllTextAsync(dir.File("resolv.conf"), resolvConf, _ct);
        var (exit, o, e) = await ChildProcess.RunAsync(TestBinaries.Require("unshare"),
            ["-m", "--propagation", "private", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"", dir.File("resolv.conf"),
             .. DaemonProcess.Command, "doctor", "--config-directory", configDir, "--config", config], ct: _ct);
        return (exit, o.Split('\n', StringSplitOptions.RemoveEmptyEntries), o + e);
    }

    private async Task<string> ConfigAsync(TempDir dir, string extra = "")
    {
        string path = dir.File("doctor.yaml");
        await File.WriteAllTextAsync(path, $"dns:\n  server: {world.Dns.ResolverEndpoint}\n{extra}", _ct);
        return path;
    }

    [Theory]
    [InlineData("good")]
    [InlineData("wrong-port")]
    [InlineData("no-trust-ad")]
    [InlineData("tlsrpt-map-on-3.7")]
    public async Task Postfix_3_7(string variant)
    {
        using var dir = new TempDir("doctor37");
        await using var daemon = await DaemonProcess.StartAsync(world.Dns.ResolverEndpoint, new Dictionary<string, string>(), dir.File("cache.db"), null, _ct);
        using var pf = new PostfixHarness();
        int port = variant == "wrong-port" ? FreePort.Tcp() : daemon.Port;
        string name = variant == "tlsrpt-map-on-3.7" ? "QUERYwithTLSRPT" : "QUERY";
        await File.AppendAllTextAsync(Path.Combine(pf.ConfigDirectory, "main.cf"),
            $"smtp_tls_policy_maps = socketmap:inet:127.0.0.1:{port}:{name}\nsmtp_dns_support_level = dnssec\nsmtp_tls_security_level = dane\n", _ct);
        var (exit, lines, all) = await DoctorOnHostAsync(variant == "no-trust-ad" ? $"nameserver {world.Nameserver}\n" : GoodResolvConf,
            pf.ConfigDirectory, await ConfigAsync(dir));
        Assert.True(lines.Length > 0 && lines[0].StartsWith("ok   postfix: 3.7.", StringComparison.Ordinal), all);
        switch (variant)
        {
            case "good":
                Assert.True(exit == 0, all);
                foreach (string expected in new[]
                {
                    $"ok   policy map: socketmap:inet:127.0.0.1:{port}:QUERY for {Domain}: postmap: NOTFOUND (the daemon directly: NOTFOUND)",
                    "ok   map name: QUERY on Postfix " + lines[0]["ok   postfix: ".Length..].Split(' ')[0],
                    $"ok   nameserver {world.Nameserver}: root SOA with AD (validates)",
                    "ok   resolv.conf: /etc/resolv.conf has options trust-ad",
                    "ok   smtp_dns_support_level: dnssec",
                    "ok   smtp_tls_security_level: dane",
                })
                    Assert.True(lines.Contains(expected), $"missing: {expected}\n{all}");
                Assert.Contains($"ok   portcullis resolver: {world.Dns.ResolverEndpoint} validates (root SOA validated (AD=1)", all);
                Assert.Contains("ok   smtp_tlsrpt_enable: not present in Postfix 3.7.", all);
                Assert.Equal("9 check(s): 9 ok, 0 warn, 0 FAIL", lines[^1]);
                break;
            case "wrong-port":
                Assert.Equal(1, exit);
                Assert.Contains($"FAIL policy map: socketmap:inet:127.0.0.1:{port}:QUERY for {Domain}: postmap got no answer: postmap: warning: connect to 127.0.0.1:{port}: Connection refused" +
                    " -> fix: start portcullis (systemctl start portcullis), or point smtp_tls_policy_maps at one of its listen addresses", lines);
                Assert.Equal("9 check(s): 8 ok, 0 warn, 1 FAIL", lines[^1]);
                break;
            case "no-trust-ad":
                Assert.Equal(1, exit);
                Assert.Contains("FAIL resolv.conf: /etc/resolv.conf has no 'options trust-ad': glibc 2.31 and later (Debian 12, 13) strip the AD bit, so Postfix sees no DNSSEC and does no DANE" +
                    " -> fix: add the line 'options trust-ad' to /etc/resolv.conf (or to what generates it)", lines);
                Assert.Equal("9 check(s): 8 ok, 0 warn, 1 FAIL", lines[^1]);
                break;
            case "tlsrpt-map-on-3.7":
                Assert.Equal(1, exit);
                string version = lines[0]["ok   postfix: ".Length..].Split(' ')[0];
                Assert.Contains($"FAIL map name: QUERYwithTLSRPT on Postfix {version}: Postfix 3.9 and older reject its attributes" +
                    $" -> fix: postconf -e 'smtp_tls_policy_maps=socketmap:inet:127.0.0.1:{port}:QUERY'", lines);
                break;
        }
    }

    [Theory]
    [InlineData("good")]
    [InlineData("socket-0600")]
    [InlineData("plain-query")]
    [InlineData("not-collecting")]
    public async Task Postfix_3_10(string variant)
    {
        string cached = await DebianRoot.EnsureAsync("trixie", Postfix310Fixture.Packages, _ct);
        await using var root = await DebianRoot.OverlayAsync(cached, _ct);
        using var dir = new TempDir("doctor310");
        foreach (string program in new[] { "postconf", "postmap" })
        {
            await File.WriteAllTextAsync(dir.File(program), $"#!/bin/sh\nexec chroot {root.Path} {program} \"$@\"\n", _ct);
            File.SetUnixFileMode(dir.File(program), (UnixFileMode)0b111_101_101);
        }
        await File.WriteAllTextAsync(root.Outside("/etc/resolv.conf"), GoodResolvConf, _ct);
        // The collector's directory as README prescribes it: setgid group postfix, so the socket gets that group.
        string gid = (await ChildProcess.RunCheckedAsync(TestBinaries.Require("chroot"), [root.Path, "getent", "group", "postfix"], ct: _ct)).Split(':')[2];
        string socket = root.Outside("/var/spool/postfix/tlsrpt/tlsrpt.sock");
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("install"), ["-d", "-o", "root", "-g", gid, "-m", "2750", Path.GetDirectoryName(socket)!], ct: _ct);
        string yaml = variant switch
        {
            "not-collecting" => "",
            "socket-0600" => $"socket_permissions: \"0600\"\ntlsrpt:\n  collect_socket: {socket}\n",
            _ => $"tlsrpt:\n  collect_socket: {socket}\n",
        };
        await using var daemon = await DaemonProcess.StartAsync(world.Dns.ResolverEndpoint, new Dictionary<string, string>(), dir.File("cache.db"), yaml, _ct);
        if (variant != "not-collecting")
            Assert.True(await daemon.WaitForOutputAsync("Collecting TLS-RPT session results"), daemon.Output);
        var setup = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(),
            ["postfix-setup", "--postconf", dir.File("postconf"), "--socketmap", $"inet:127.0.0.1:{daemon.Port}", "--apply"], _ct);
        Assert.True(setup.ExitCode == 0, setup.Stdout + setup.Stderr);
        if (variant == "plain-query")
            await ChildProcess.RunCheckedAsync(TestBinaries.Require("chroot"), [root.Path, "postconf", "-e", $"smtp_tls_policy_maps=socketmap:inet:127.0.0.1:{daemon.Port}:QUERY"], ct: _ct);
        string config = await ConfigAsync(dir, yaml.Replace("socket_permissions: \"0600\"\n", "", StringComparison.Ordinal));
        var (exit, o, e) = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(),
            ["doctor", "--postconf", dir.File("postconf"), "--root", root.Path, "--config", config], _ct);
        var lines = o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string all = o + e;
        Assert.True(lines.Length > 0 && lines[0].StartsWith("ok   postfix: 3.10.", StringComparison.Ordinal), all);
        string shown = $"{socket} (smtp_tlsrpt_socket_name = tlsrpt/tlsrpt.sock, smtp chroot y)";
        switch (variant)
        {
            case "good":
                Assert.True(exit == 0, all);
                Assert.Contains($"ok   policy map: socketmap:inet:127.0.0.1:{daemon.Port}:QUERYwithTLSRPT for {Domain}: postmap: OK dane policy_type=no-policy-found" +
                    " (the daemon directly: OK dane policy_type=no-policy-found)", lines);
                Assert.Contains($"ok   nameserver {world.Nameserver}: root SOA with AD (validates)", lines);
                Assert.Contains($"ok   resolv.conf: {root.Outside("/etc/resolv.conf")} has options trust-ad", lines);
                Assert.Contains("ok   smtp_tlsrpt_enable: yes, and Portcullis collects (tlsrpt.collect_socket)", lines);
                Assert.Contains(lines, l => l.StartsWith($"ok   tlsrpt socket: {shown} is a socket postfix can write (mode 0660, uid 0, gid {gid})", StringComparison.Ordinal));
                Assert.Equal("10 check(s): 10 ok, 0 warn, 0 FAIL", lines[^1]);
                break;
            case "socket-0600":
                Assert.Equal(1, exit);
                Assert.Contains($"FAIL tlsrpt socket: {shown} is not writable by postfix (mode 0600, uid 0, gid {gid})" +
                    " -> fix: socket_permissions: \"0660\" and its directory setgid group postfix (install -d -g postfix -m 2750 DIR), then restart portcullis", lines);
                Assert.Equal("10 check(s): 9 ok, 0 warn, 1 FAIL", lines[^1]);
                break;
            case "plain-query":
                Assert.True(exit == 0, all); // a warning is not a failure
                Assert.Contains(lines, l => l.StartsWith("warn map name: QUERY on Postfix 3.10.", StringComparison.Ordinal)
                    && l.EndsWith(": MX patterns are not enforced (smtp_tls_enforce_sts_mx_patterns needs QUERYwithTLSRPT, see README)" +
                        $" -> fix: postconf -e 'smtp_tls_policy_maps=socketmap:inet:127.0.0.1:{daemon.Port}:QUERYwithTLSRPT'", StringComparison.Ordinal));
                Assert.Equal("10 check(s): 9 ok, 1 warn, 0 FAIL", lines[^1]);
                break;
            case "not-collecting":
                Assert.Equal(1, exit);
                Assert.Contains("FAIL smtp_tlsrpt_enable: yes, but tlsrpt.collect_socket is not set: Postfix's events go nowhere" +
                    " -> fix: set tlsrpt.collect_socket (see portcullis postfix-setup) or postconf -e smtp_tlsrpt_enable=no", lines);
                Assert.Contains($"FAIL tlsrpt socket: {shown} is missing -> fix: start portcullis with tlsrpt.collect_socket at that path", lines);
                break;
        }
    }
}
