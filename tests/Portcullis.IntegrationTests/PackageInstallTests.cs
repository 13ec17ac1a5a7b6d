using System.Net;
using Portcullis.IntegrationTests.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The Debian package under test: the one scripts/test.sh built before the tests (PORTCULLIS_TEST_DEB), so the
/// publish does not compete with timed tests; else built here with scripts/package.sh.
/// </summary>
public sealed class PackageFixture : IAsyncLifetime
{
    private bool _built;

    public string Deb { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("PORTCULLIS_TEST_DEB") is { Length: > 0 } given)
        {
            Deb = File.Exists(given) ? given : throw new InvalidOperationException($"PORTCULLIS_TEST_DEB={given} does not exist");
            return;
        }
        _built = true;
        string repo = RepoRoot();
        string outDir = Directory.CreateTempSubdirectory("portcullis-deb-").FullName;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(Path.Combine(repo, "scripts", "package.sh"), ["--lint", "--out", outDir],
            repo, ct: cts.Token);
        if (exit != 0)
            throw new InvalidOperationException($"scripts/package.sh failed with {exit}:\n{stdout}\n{stderr}");
        Deb = stdout.Trim().Split('\n')[^1];
        if (!File.Exists(Deb))
            throw new InvalidOperationException($"scripts/package.sh printed no package path:\n{stdout}\n{stderr}");
    }

    public Task DisposeAsync()
    {
        if (_built)
            Directory.Delete(Path.GetDirectoryName(Deb)!, true);
        return Task.CompletedTask;
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Portcullis.slnx")))
                return d.FullName;
        }
        throw new InvalidOperationException("repository root (Portcullis.slnx) not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// The package as an administrator meets it: `apt-get install ./portcullis_….deb` into fresh Debian 12
/// and 13 roots (debootstrap), the daemon started from the packaged unit's command line as the
/// `portcullis` user, a DANE and an MTA-STS domain answered through that root's own `postmap -q`, then
/// remove (state and the changed conffile kept) and purge (nothing of the package left).
/// </summary>
public sealed class PackageInstallTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    private const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(15)).Token;

    public static TheoryData<string, string[]> Releases => new()
    {
        { "bookworm", ["postfix", "ca-certificates"] },
        { "trixie", ["postfix", "libtlsrpt0", "ca-certificates"] },
    };

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task The_package_installs_serves_Postfix_and_purges_cleanly(string suite, string[] packages)
    {
        string cached = await DebianRoot.EnsureAsync(suite, packages, _ct);
        await using var root = await DebianRoot.OverlayAsync(cached, _ct);
        using var ca = TestCa.Create();
        await using var host = PolicyHost.Start(ca);
        var w = new DnsWorldBuilder();
        w.Zone("pkg.test").Mx("mx.dane.pkg.test.", owner: "dane").A("mx.dane").Tlsa("_25._tcp.mx.dane", 3, 1, 1, Sha256)
            .Mx("mx.sts.pkg.test.", owner: "sts").A("mx.sts").Add("_mta-sts.sts TXT \"v=STSv1; id=1\"")
            .A("mta-sts.sts", host.Address.ToString());
        host.Set("mta-sts.sts.pkg.test", HostBehavior.Policy("version: STSv1\nmode: enforce\nmx: mx.sts.pkg.test\nmax_age: 86400\n"));
        await using var dns = await w.StartAsync(_ct);

        string before = await SnapshotAsync(root);
        File.Copy(package.Deb, root.Outside("/tmp/portcullis.deb"));
        await InRootAsync(root, ["apt-get", "update", "-q"], allowFail: true);
        await InRootAsync(root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/portcullis.deb"]);

        // What the package set up.
        Assert.Contains("portcullis:", await File.ReadAllTextAsync(root.Outside("/etc/passwd")));
        Assert.Contains("portcullis", await InRootAsync(root, ["id", "-nG", "postfix"]));
        Assert.Contains("/etc/portcullis/portcullis.yml", await File.ReadAllTextAsync(root.Outside("/var/lib/dpkg/info/portcullis.conffiles")));
        Assert.Equal("portcullis 750", (await InRootAsync(root, ["stat", "-c", "%U %a", "/var/lib/portcullis"])).Trim());
        Assert.Contains("ExecStart=/usr/bin/portcullis serve --config /etc/portcullis/portcullis.yml",
            await File.ReadAllTextAsync(root.Outside("/lib/systemd/system/portcullis.service")));
        // Monitoring examples beside each other: the dashboard and the alert rules over the same metrics.
        Assert.Contains("portcullis_own_domain_check", await File.ReadAllTextAsync(root.Outside("/usr/share/portcullis/prometheus-alerts.yml")));
        Assert.Contains("portcullis_own_domain_check", await File.ReadAllTextAsync(root.Outside("/usr/share/portcullis/grafana-dashboard.json")));

        // The admin edits the conffile: the resolver, and loopback policy hosts (the test world's).
        string conf = root.Outside("/etc/portcullis/portcullis.yml");
        await File.AppendAllTextAsync(conf, $"\ndns:\n  server: 127.0.0.1:{dns.ResolverEndpoint.Port}\nmta_sts:\n  allow_private_addresses: true\n", _ct);
        File.Copy(ca.CaFile, root.Outside("/tmp/test-ca.pem"));

        int port = FreePort.Tcp();
        string map = $"socketmap:inet:127.0.0.1:{port}:QUERY";
        // The .NET runtime reads /proc (as under systemd, where it is always there).
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("mount"), ["-t", "proc", "proc", root.Outside("/proc")], ct: _ct);
        try
        {
            await using var daemon = await StartPackagedDaemonAsync(root, port);
            Assert.Equal("dane-only", (await InRootAsync(root, ["postmap", "-q", "dane.pkg.test", map])).Trim());
            Assert.Equal("secure match=mx.sts.pkg.test servername=hostname", (await InRootAsync(root, ["postmap", "-q", "sts.pkg.test", map])).Trim());
            // The state directory is the one systemd gives (STATE_DIRECTORY), owned by the service user, private.
            Assert.Equal("portcullis 600", (await InRootAsync(root, ["stat", "-c", "%U %a", "/var/lib/portcullis/cache.db"])).Trim());
            // The admin's tools need no flags: /etc/portcullis/portcullis.yml and /var/lib/portcullis are their defaults.
            string list = await InRootAsync(root, ["env", "SSL_CERT_FILE=/tmp/test-ca.pem", "portcullis", "cache", "list"]);
            Assert.Contains("dane.pkg.test", list);
            Assert.Contains("sts.pkg.test", list);
            string query = await InRootAsync(root, ["env", "SSL_CERT_FILE=/tmp/test-ca.pem", "portcullis", "query", "sts.pkg.test"]);
            Assert.Contains("secure match=mx.sts.pkg.test", query);
            Assert.Contains("/etc/portcullis/portcullis.yml", await InRootAsync(root, ["portcullis", "serve", "--help"]));
            Assert.Contains("configuration /etc/portcullis/portcullis.yml; data /var/lib/portcullis", daemon.Output);
        }
        finally
        {
            await ChildProcess.RunAsync(TestBinaries.Require("umount"), ["-l", root.Outside("/proc")]);
        }

        // An upgrade (here: the same version again) keeps the cache.
        await InRootAsync(root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "--reinstall", "/tmp/portcullis.deb"]);
        Assert.True(File.Exists(root.Outside("/var/lib/portcullis/cache.db")));

        // remove: the cache and the changed conffile stay; purge: they go too.
        await InRootAsync(root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "remove", "-y", "-q", "portcullis"]);
        Assert.False(File.Exists(root.Outside("/usr/bin/portcullis")));
        Assert.True(File.Exists(root.Outside("/var/lib/portcullis/cache.db")));
        Assert.Contains("allow_private_addresses: true", await File.ReadAllTextAsync(conf));
        await InRootAsync(root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q", "portcullis"]);
        File.Delete(root.Outside("/tmp/portcullis.deb"));
        File.Delete(root.Outside("/tmp/test-ca.pem"));
        string after = await SnapshotAsync(root);
        var left = after.Split('\n').Except(before.Split('\n')).ToList();
        Assert.True(left.Count == 0, "left behind after purge:\n" + string.Join('\n', left));
    }

    /// <summary>The packaged unit's command line, as its User= and with the StateDirectory= systemd sets.</summary>
    private static async Task<ChildProcess> StartPackagedDaemonAsync(WritableRoot root, int port)
    {
        var daemon = ChildProcess.Start(TestBinaries.Require("chroot"), ["--userspec=portcullis:portcullis", root.Path,
            "/usr/bin/env", "STATE_DIRECTORY=/var/lib/portcullis", "SSL_CERT_FILE=/tmp/test-ca.pem", "HOME=/var/lib/portcullis",
            "/usr/bin/portcullis", "serve", "--config", "/etc/portcullis/portcullis.yml", "--listen", $"127.0.0.1:{port}"]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (daemon.HasExited)
                throw new InvalidOperationException("packaged portcullis exited:\n" + daemon.Output);
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return daemon;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100);
            }
        }
        await daemon.DisposeAsync();
        throw new TimeoutException("packaged portcullis did not listen:\n" + daemon.Output);
    }

    private async Task<string> InRootAsync(WritableRoot root, string[] command, bool allowFail = false)
    {
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("chroot"), [root.Path, .. command], ct: _ct);
        if (exit != 0 && !allowFail)
            throw new InvalidOperationException($"in root: {string.Join(' ', command)} exited with {exit}:\n{stdout}\n{stderr}");
        return stdout;
    }

    /// <summary>Every path of the root with its type and mode, except what apt and dpkg keep about themselves.</summary>
    private async Task<string> SnapshotAsync(WritableRoot root)
    {
        string[] skip = ["var/lib/apt", "var/cache", "var/log", "var/lib/dpkg", "tmp", "proc", "dev", "run"];
        var (_, stdout, _) = await ChildProcess.RunAsync(TestBinaries.Require("find"), [root.Path, "-xdev", "-printf", "%P %y %m\n"], ct: _ct);
        var kept = stdout.Split('\n').Where(l => l.Length > 0 && !skip.Any(s => l == s || l.StartsWith(s + "/", StringComparison.Ordinal) || l.StartsWith(s + " ", StringComparison.Ordinal)))
            // The system user stays after purge, as Debian packages do; its entries are in these files.
            .Where(l => !l.StartsWith("etc/passwd", StringComparison.Ordinal) && !l.StartsWith("etc/group", StringComparison.Ordinal)
                && !l.StartsWith("etc/shadow", StringComparison.Ordinal) && !l.StartsWith("etc/gshadow", StringComparison.Ordinal)
                && !l.StartsWith("etc/subuid", StringComparison.Ordinal) && !l.StartsWith("etc/subgid", StringComparison.Ordinal));
        return string.Join('\n', kept.Order(StringComparer.Ordinal));
    }
}
