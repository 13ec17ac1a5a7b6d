using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>The `cache` commands against a running daemon (control socket) and against the file alone.</summary>
[Collection(MtaStsWorld.Name)]
public sealed class CacheToolsTests(MtaStsWorldFixture world)
{
    private const string Z = MtaStsWorldFixture.Zone;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    [Fact]
    public async Task List_show_export_and_purge_via_the_daemon_then_from_the_file()
    {
        string cache = Path.Combine(world.Dir, "tools.db");
        await using var daemon = await world.StartDaemonAsync("tools.db", $"dns:\n  server: \"{world.Dns.ResolverEndpoint}\"\n");
        string config = Path.Combine(world.Dir, $"portcullis-{daemon.Port}.yaml");
        await using (var c = await daemon.ConnectAsync(_ct))
        {
            Assert.StartsWith("OK secure", await c.QueryAsync("QUERY", $"good.{Z}", _ct));
            Assert.StartsWith("OK secure", await c.QueryAsync("QUERY", $"good.{Z}", _ct));
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"nosts.{Z}", _ct));
        }
        Task<(int ExitCode, string Stdout, string Stderr)> Cli(params string[] args) =>
            DaemonProcess.RunCliAsync(world.Ca.ChildEnvironment, ["cache", .. args, "--config", config, "--cache", cache], _ct);

        var list = await Cli("list");
        Assert.True(list.ExitCode == 0, list.Stderr);
        string goodLine = list.Stdout.Split('\n').Single(l => l.StartsWith($"good.{Z} ", StringComparison.Ordinal));
        Assert.Matches($@"^good\.{Z.Replace(".", @"\.")}\s+cache\s+mta-sts\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+2  OK secure match=mail\.good\.", goodLine);
        Assert.Contains($"nosts.{Z}", list.Stdout);
        Assert.Equal("", list.Stderr); // answered by the daemon, not the file

        var export = await Cli("export");
        string table = Path.Combine(world.Dir, "tls_policy");
        await File.WriteAllTextAsync(table, export.Stdout, _ct);
        Assert.DoesNotContain($"nosts.{Z}", export.Stdout);
        using var postfix = new PostfixHarness();
        var (mapExit, _, mapErr) = await ChildProcess.RunAsync(TestBinaries.Require("postmap"), ["-c", postfix.ConfigDirectory, "hash:" + table], ct: _ct);
        Assert.True(mapExit == 0, mapErr);
        var q = await postfix.PostmapQueryAsync($"good.{Z}", "hash:" + table, _ct);
        Assert.Equal($"secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname\n", q.Stdout);

        var show = await Cli("show", $"GOOD.{Z}");
        Assert.True(show.ExitCode == 0, show.Stdout + show.Stderr);
        Assert.Contains("Policy id:       unchanged (20240101)", show.Stdout);
        Assert.Contains("Cached and live answers agree.", show.Stdout);

        var purge = await Cli("purge", $"good.{Z}");
        Assert.Contains("in the running daemon", purge.Stdout);
        Assert.DoesNotContain($"good.{Z} ", (await Cli("list")).Stdout);

        Assert.Equal(0, await daemon.StopAsync(_ct));
        var offline = await Cli("list");
        Assert.Contains("reading", offline.Stderr);
        Assert.Contains($"nosts.{Z}", offline.Stdout);
        Assert.DoesNotContain($"good.{Z} ", offline.Stdout);
    }
}
