using System.Diagnostics;
using System.Net;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>The shipped systemd units, socket activation and SIGHUP reload, with the real binary.</summary>
public sealed class SystemdTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-systemd-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException(relative);
    }

    [Fact]
    public async Task Shipped_units_pass_systemd_analyze_verify()
    {
        // ExecStart must name an existing binary for verify: point it at this build's apphost.
        string unit = await File.ReadAllTextAsync(RepoFile("deploy/portcullis.service"), _ct);
        Assert.Contains("Type=notify", unit);
        Assert.Contains("ExecReload=/bin/kill -HUP $MAINPID", unit);
        await File.WriteAllTextAsync(Path.Combine(_dir, "portcullis.service"),
            unit.Replace("/opt/portcullis/portcullis", Path.Combine(AppContext.BaseDirectory, "portcullis"), StringComparison.Ordinal), _ct);
        File.Copy(RepoFile("deploy/portcullis.socket"), Path.Combine(_dir, "portcullis.socket"));
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("systemd-analyze"),
            ["verify", Path.Combine(_dir, "portcullis.service"), Path.Combine(_dir, "portcullis.socket")], _dir, ct: _ct);
        Assert.True(exit == 0, stdout + stderr);
    }

    [Fact]
    public async Task Socket_activation_serves_the_inherited_socket()
    {
        int port = FreePort.Tcp();
        var psi = new ProcessStartInfo(TestBinaries.Require("systemd-socket-activate"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in (string[])["-l", $"127.0.0.1:{port}", .. DaemonProcess.Command, "serve",
                     "--dns", NoResolver.ToString(), "--cache", Path.Combine(_dir, "cache.db")])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(_ct);
        try
        {
            SocketmapClient? client = null;
            for (int i = 0; i < 200 && client is null; i++)
            {
                try
                {
                    client = await SocketmapClient.ConnectAsync(port, _ct);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    await Task.Delay(50, _ct); // systemd-socket-activate has not bound yet
                }
            }
            Assert.NotNull(client);
            await using (client)
                Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", ".example.com", _ct));
        }
        finally
        {
            p.Kill(true);
            await p.WaitForExitAsync(_ct);
        }
        Assert.Contains("sockets from systemd", await p.StandardOutput.ReadToEndAsync(_ct) + await stderr);
    }

    [Fact]
    public async Task Sighup_reloads_overrides_and_keeps_them_when_the_file_is_broken()
    {
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), "overrides:\n  relay.example: { policy: encrypt }\n", _ct);
        string config = Directory.GetFiles(_dir, "portcullis-*.yaml").Single();
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.Equal("OK encrypt", await client.QueryAsync("QUERY", "relay.example", _ct));

        await File.WriteAllTextAsync(config, "overrides:\n  relay.example: { policy: \"secure match=relay.example\" }\n", _ct);
        await daemon.SignalAsync("HUP");
        await WaitForAsync(daemon, "reloaded");
        Assert.Equal("OK secure match=relay.example", await client.QueryAsync("QUERY", "relay.example", _ct));

        await File.WriteAllTextAsync(config, "overides: {}\n", _ct);
        await daemon.SignalAsync("HUP");
        await WaitForAsync(daemon, "not reloaded");
        Assert.Contains("unknown key 'overides'", daemon.Output);
        Assert.Equal("OK secure match=relay.example", await client.QueryAsync("QUERY", "relay.example", _ct));
    }

    private async Task WaitForAsync(DaemonProcess daemon, string text)
    {
        for (int i = 0; i < 100 && !daemon.Output.Contains(text, StringComparison.Ordinal); i++)
            await Task.Delay(50, _ct);
        Assert.Contains(text, daemon.Output);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
