using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>SIGTERM while a lookup that finishes within the shutdown grace is in flight: it gets its real answer.</summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    private const string Policy = "version: STSv1\nmode: enforce\nmx: mx.slow.test\nmax_age: 86400\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-stop-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;
    private readonly TestCa _ca = TestCa.Create();
    private PolicyHost _host = null!;
    private DnsWorld _dns = null!;
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync()
    {
        _host = PolicyHost.Start(_ca);
        // The policy body trickles out a byte every 4 ms: the fetch is in flight for a few hundred ms.
        _host.Set("mta-sts.slow.test", HostBehavior.SlowDrip(Policy, TimeSpan.FromMilliseconds(4)));
        var w = new DnsWorldBuilder();
        w.Zone("slow.test").Mx("mx").A("mx").MtaSts("1").A("mta-sts", _host.Address.ToString());
        _dns = await w.StartAsync(_ct);
        _daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, _ca.ChildEnvironment, Path.Combine(_dir, "cache.db"),
            "mta_sts:\n  allow_private_addresses: true\nlimits:\n  shutdown_grace: 10\n", _ct);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await _dns.DisposeAsync();
        await _host.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task Sigterm_lets_a_request_in_flight_finish_with_its_real_answer()
    {
        await using var idle = await _daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await idle.QueryAsync("QUERY", ".idle.example", _ct));
        await using var busy = await _daemon.ConnectAsync(_ct);
        var inFlight = busy.QueryAsync("QUERY", "slow.test", _ct);
        while (!_host.WasRequested("mta-sts.slow.test"))
            await Task.Delay(10, _ct); // the policy fetch has started
        Assert.False(inFlight.IsCompleted);

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, await _daemon.StopAsync(_ct));
        var took = sw.Elapsed;
        // The process has exited, so the answer is already in the socket.
        string answer = await inFlight.WaitAsync(TimeSpan.FromSeconds(5), _ct);
        Assert.True(answer.StartsWith("OK secure", StringComparison.Ordinal), answer);
        Assert.True(await idle.IsClosedByServerAsync(_ct));
        // The exit follows the answer: it does not wait out the (10 s) grace.
        Assert.True(took < TimeSpan.FromSeconds(8), $"SIGTERM to exit took {took.TotalMilliseconds:0} ms");
        Console.WriteLine($"SIGTERM to exit with a fetch in flight: {took.TotalMilliseconds:0} ms");
    }
}
