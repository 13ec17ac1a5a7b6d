using System.Text.Json;
using Portcullis.Testing.World;

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
/// `portcullis` user inside the test world's network namespace (InstallScene), a DANE and an MTA-STS domain
/// answered through that root's own `postmap -q`, then remove (state and the changed conffile kept) and purge (nothing of the package left).
/// </summary>
public sealed class PackageInstallTests(PackageFixture package) : IClassFixture<PackageFixture>
{
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

        // The admin edits the conffile: the test world's policy hosts are on loopback. Nothing else: the
        // resolver is the root's resolv.conf nameserver, the listener the packaged 127.0.0.1:8642.
        string conf = root.Outside("/etc/portcullis/portcullis.yml");
        await File.AppendAllTextAsync(conf, "\nmta_sts:\n  allow_private_addresses: true\n", _ct);
        Assert.Contains("/etc/portcullis/portcullis.yml", await InRootAsync(root, ["portcullis", "serve", "--help"]));

        // The daemon, its resolver, the policy host and postmap share the test world's own network namespace.
        // The .NET runtime reads /proc (as under systemd, where it is always there).
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("mount"), ["-t", "proc", "proc", root.Outside("/proc")], ct: _ct);
        JsonElement scene;
        try
        {
            await using var ns = await SceneNamespace.CreateAsync("portcullis-pkg");
            scene = await ns.RunSceneAsync("installed package scene", ["--installed", root.Path], TimeSpan.FromMinutes(5));
        }
        finally
        {
            await ChildProcess.RunAsync(TestBinaries.Require("umount"), ["-l", root.Outside("/proc")]);
        }
        string Seen(string key) => scene.GetProperty(key).GetString() ?? "(null)";
        string log = Seen("daemon_log");
        Assert.True(scene.GetProperty("listening").GetBoolean(), "packaged portcullis did not listen on 127.0.0.1:8642:\n" + log);
        // Only loopback in there: nothing of the host's network is reachable from the scene.
        Assert.Matches(@"^1: lo:[^\n]*\n?$", Seen("namespace_interfaces"));
        Assert.Equal("0 dane-only", Seen("dane"));
        Assert.Equal("0 secure match=mx.sts.pkg.test servername=hostname", Seen("sts"));
        // The state directory is the one systemd gives (STATE_DIRECTORY), owned by the service user, private.
        Assert.Equal("0 portcullis 600", Seen("cache_db"));
        Assert.StartsWith("0 ", Seen("cache_list"));
        Assert.Contains("dane.pkg.test", Seen("cache_list"));
        Assert.Contains("sts.pkg.test", Seen("cache_list"));
        Assert.StartsWith("0 ", Seen("query"));
        Assert.Contains("secure match=mx.sts.pkg.test", Seen("query"));
        Assert.Contains("Resolver self-test passed", log);
        Assert.Contains("listening on 127.0.0.1:8642; resolver 127.0.0.1", log);
        Assert.Contains("configuration /etc/portcullis/portcullis.yml; data /var/lib/portcullis", log);

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
