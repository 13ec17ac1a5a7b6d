using System.Text.RegularExpressions;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>Routine proactive refreshes are logged at debug; only a changed answer is information.</summary>
public sealed class RefreshLogTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-refreshlog-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private DnsWorld _dns = null!;

    public async Task InitializeAsync()
    {
        var w = new DnsWorldBuilder();
        // TTL 30 s (clamped to DANE's 60 s minimum) is inside refresh.ahead (300 s): refreshed on every 30 s tick.
        w.Zone("refresh.test").Mx("mx.dane.refresh.test.", owner: "dane").A("mx.dane", "127.0.0.1")
            .Tlsa("_25._tcp.mx.dane", 3, 1, 1, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        _dns = await w.StartAsync(_ct);
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task An_unchanged_refresh_is_a_debug_line_and_adds_no_information_line()
    {
        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), "log_level: debug\n", _ct);
        await using (var c = await daemon.ConnectAsync(_ct))
            Assert.StartsWith("OK dane-only", await c.QueryAsync("QUERY", "dane.refresh.test", _ct));

        // The first refresh tick is 30 s after start; allow two on a loaded machine.
        Assert.True(await daemon.WaitForOutputAsync("Refresh of dane.refresh.test: unchanged, OK dane-only", TimeSpan.FromSeconds(75)), daemon.Output);
        var lines = daemon.Output.Split('\n');
        var info = lines.Where(l => l.Contains(" info: ", StringComparison.Ordinal) && l.Contains("dane.refresh.test", StringComparison.Ordinal)).ToList();
        Assert.True(info.Count == 1, string.Join('\n', info)); // the query's own resolution, nothing per refresh
        Assert.True(lines.Any(l => Regex.IsMatch(l, @"^\S+ dbug: Portcullis\.Hosting\.Jobs\.RefreshService\[\d+\] Refresh of dane\.refresh\.test: unchanged")), daemon.Output);
        Assert.True(lines.Any(l => Regex.IsMatch(l, @"^\S+ dbug: Portcullis\.Resolution\.PolicyResolver\[\d+\] dane\.refresh\.test: DaneOnly")), daemon.Output);
    }
}
