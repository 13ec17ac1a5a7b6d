using System.Text.Json;
using Portcullis.Testing.World;

namespace Portcullis.DeliveryScene;

/// <summary>
/// The installed package at work inside the scene's network namespace (PackageInstallTests installs it into
/// a Debian root first): a DNSSEC world whose unbound is the namespace's 127.0.0.1:53, an HTTPS policy host,
/// then `portcullis serve` started as the unit starts it (User=portcullis, StateDirectory=, the packaged
/// configuration and so its default listener 127.0.0.1:8642 and resolver from the root's resolv.conf), asked
/// for a DANE and an MTA-STS domain through the root's own <c>postmap -q</c>. Writes what it saw as JSON.
/// </summary>
public static class InstallScene
{
    private const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    // The packaged configuration's listener (README's configuration reference, deploy/debian).
    private const int PackagedPort = 8642;

    public static async Task<int> RunAsync(string rootPath, string outFile)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = cts.Token;
        var root = new RootShell(rootPath);
        using var ca = TestCa.Create();
        await using var host = PolicyHost.Start(ca);
        var w = new DnsWorldBuilder { ResolverPort = 53 };
        w.Zone("pkg.test").Mx("mx.dane.pkg.test.", owner: "dane").A("mx.dane").Tlsa("_25._tcp.mx.dane", 3, 1, 1, Sha256)
            .Mx("mx.sts.pkg.test.", owner: "sts").A("mx.sts").Add("_mta-sts.sts TXT \"v=STSv1; id=1\"")
            .A("mta-sts.sts", host.Address.ToString());
        host.Set("mta-sts.sts.pkg.test", HostBehavior.Policy("version: STSv1\nmode: enforce\nmx: mx.sts.pkg.test\nmax_age: 86400\n"));
        await using var dns = await w.StartAsync(ct);
        // The administrator's resolver set-up from README: the local validating resolver, trust-ad.
        // (Put back afterwards: the test compares the root before installing with the root after purging.)
        string resolvConf = root.Outside("/etc/resolv.conf");
        string? resolvBefore = File.Exists(resolvConf) ? await File.ReadAllTextAsync(resolvConf, ct) : null;
        await File.WriteAllTextAsync(root.Outside("/etc/resolv.conf"), "nameserver 127.0.0.1\noptions trust-ad\n", ct);
        File.Copy(ca.CaFile, root.Outside("/tmp/test-ca.pem"), true);

        // The packaged unit's command line, as its User= and with the StateDirectory= systemd sets.
        await using var daemon = ChildProcess.Start(TestBinaries.Require("chroot"), ["--userspec=portcullis:portcullis", rootPath,
            "/usr/bin/env", "STATE_DIRECTORY=/var/lib/portcullis", "SSL_CERT_FILE=/tmp/test-ca.pem", "HOME=/var/lib/portcullis",
            "/usr/bin/portcullis", "serve", "--config", "/etc/portcullis/portcullis.yml"]);
        bool listening = await FreePort.WaitUntilListeningAsync(PackagedPort, 600, ct);
        string map = $"socketmap:inet:127.0.0.1:{PackagedPort}:QUERY";
        var result = new Dictionary<string, object?>
        {
            ["listening"] = listening,
            ["dane"] = listening ? await root.RunAsync(["postmap", "-q", "dane.pkg.test", map], ct) : null,
            ["sts"] = listening ? await root.RunAsync(["postmap", "-q", "sts.pkg.test", map], ct) : null,
            ["cache_db"] = await root.RunAsync(["stat", "-c", "%U %a", "/var/lib/portcullis/cache.db"], ct),
            // The admin's tools need no flags: /etc/portcullis/portcullis.yml and /var/lib/portcullis are their defaults.
            ["cache_list"] = await root.RunAsync(["env", "SSL_CERT_FILE=/tmp/test-ca.pem", "portcullis", "cache", "list"], ct),
            ["query"] = await root.RunAsync(["env", "SSL_CERT_FILE=/tmp/test-ca.pem", "portcullis", "query", "sts.pkg.test"], ct),
            ["namespace_interfaces"] = await ChildProcess.RunCheckedAsync(TestBinaries.Require("ip"), ["-o", "link", "show"], ct: ct),
        };
        await daemon.DisposeAsync();
        result["daemon_log"] = daemon.Output;
        File.Delete(root.Outside("/tmp/test-ca.pem"));
        if (resolvBefore is null)
            File.Delete(resolvConf);
        else
            await File.WriteAllTextAsync(resolvConf, resolvBefore, ct);
        await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), ct);
        return 0;
    }

    private sealed class RootShell(string path)
    {
        public string Outside(string inside) => Path.Combine(path, inside.TrimStart('/'));

        /// <summary>A command of the root inside it: its exit code and output, e.g. "0 dane-only".</summary>
        public async Task<string> RunAsync(string[] command, CancellationToken ct)
        {
            var (exit, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("chroot"), [path, .. command], ct: ct);
            return $"{exit} {stdout.Trim()}{(stderr.Length > 0 ? "\n" + stderr.Trim() : "")}";
        }
    }
}
