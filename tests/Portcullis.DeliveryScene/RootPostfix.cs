using Portcullis.Testing.World;

namespace Portcullis.DeliveryScene;

/// <summary>
/// The Postfix of a Debian root (e.g. trixie's 3.10 with libtlsrpt), run with <c>chroot ROOT postfix …</c>
/// inside the scene's network namespace, so it shares the scene's loopback: resolver, policy hosts, sinks,
/// daemon. Its own /etc/postfix, the default queue directory /var/spool/postfix, a log file, no chroot jails.
/// </summary>
public sealed class RootPostfix : IAsyncDisposable
{
    public const string LogInside = "/var/log/postfix.log";
    /// <summary>The collector socket as README prescribes it for a chrooted smtp: inside the queue directory.</summary>
    public const string TlsRptSocketInside = "/var/spool/postfix/tlsrpt/tlsrpt.sock";

    private readonly WritableRoot _root;

    private RootPostfix(WritableRoot root) => _root = root;

    public string Log => File.Exists(_root.Outside(LogInside)) ? File.ReadAllText(_root.Outside(LogInside)) : "";

    /// <summary>Runs a program of the root inside it (e.g. postconf, postmap).</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args, CancellationToken ct) =>
        ChildProcess.RunAsync(TestBinaries.Require("chroot"), [_root.Path, program, .. args], ct: ct);

    /// <summary>Prepares the collector's directory: setgid group postfix, so the socket gets that group.</summary>
    public static async Task PrepareTlsRptDirectoryAsync(WritableRoot root, CancellationToken ct)
    {
        string gid = (await ChildProcess.RunCheckedAsync(TestBinaries.Require("chroot"), [root.Path, "getent", "group", "postfix"], ct: ct)).Split(':')[2];
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("install"),
            ["-d", "-o", "root", "-g", gid, "-m", "2750", root.Outside(Path.GetDirectoryName(TlsRptSocketInside)!)], ct: ct);
    }

    public static async Task<RootPostfix> StartAsync(WritableRoot root, string mainCf, string masterCf, string caPem, CancellationToken ct)
    {
        await File.WriteAllTextAsync(root.Outside("/etc/resolv.conf"), "nameserver 127.0.0.1\noptions trust-ad\n", ct);
        await File.WriteAllTextAsync(root.Outside("/etc/postfix/ca.pem"), caPem, ct);
        await File.WriteAllTextAsync(root.Outside("/etc/postfix/main.cf"), mainCf, ct);
        await File.WriteAllTextAsync(root.Outside("/etc/postfix/master.cf"), masterCf, ct);
        var pf = new RootPostfix(root);
        foreach (var cmd in new[] { new[] { "set-permissions" }, ["check"] })
        {
            var (code, o, e) = await pf.RunAsync("postfix", cmd, ct);
            if (code != 0)
                throw new InvalidOperationException($"postfix {cmd[0]} in {root.Path} failed ({code}): {o}{e}");
        }
        var (exit, stdout, stderr) = await pf.RunAsync("postfix", ["start"], ct);
        if (await FreePort.WaitUntilListeningAsync(2525, 100, ct))
            return pf;
        throw new InvalidOperationException($"postfix in {root.Path} did not start (exit {exit}): {stdout}{stderr}\n{pf.Log}");
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("postfix", ["stop"], CancellationToken.None);
        string pidFile = _root.Outside("/var/spool/postfix/pid/master.pid");
        for (int i = 0; i < 50 && File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid) && Directory.Exists($"/proc/{pid}"); i++)
            await Task.Delay(100);
    }
}
