using System.Net;
using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>Many, idle and dripping clients against the real daemon: bounded, and everyone else still answered.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-hard-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() =>
        _daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"),
            "limits:\n  idle_timeout: 2\n  max_connections: 1500\n", _ct);

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task A_thousand_concurrent_connections_are_all_answered_with_bounded_memory()
    {
        long before = _daemon.ResidentBytes();
        var clients = new List<SocketmapClient>();
        try
        {
            for (int i = 0; i < 1000; i++)
                clients.Add(await _daemon.ConnectAsync(_ct));
            var answers = await Task.WhenAll(clients.Select((c, i) => c.QueryAsync("QUERY", $".d{i}.example", _ct)));
            Assert.All(answers, a => Assert.Equal("NOTFOUND ", a));
            long growth = _daemon.ResidentBytes() - before;
            Assert.True(growth < 64L * 1024 * 1024, $"RSS grew by {growth / 1024 / 1024} MB for 1000 connections");
        }
        finally
        {
            foreach (var c in clients)
                await c.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("")]          // connects and says nothing
    [InlineData("25:QUERY exa")] // half a request, then silence
    public async Task Idle_and_stalled_clients_are_closed_while_others_are_answered(string partial)
    {
        await using var stalled = await _daemon.ConnectAsync(_ct);
        if (partial.Length > 0)
            await stalled.SendRawAsync(System.Text.Encoding.ASCII.GetBytes(partial), _ct);
        await using var busy = await _daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await busy.QueryAsync("QUERY", ".other.example", _ct));
        var closed = stalled.IsClosedByServerAsync(_ct);
        Assert.Same(closed, await Task.WhenAny(closed, Task.Delay(TimeSpan.FromSeconds(10), _ct)));
        Assert.True(await closed);
        Assert.True(await _daemon.WaitForOutputAsync("no complete request for 2 s"), _daemon.Output);
    }

    [Fact]
    public async Task A_client_announcing_a_huge_length_is_cut_off_at_once()
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        await client.SendRawAsync("999999999:"u8.ToArray(), _ct);
        Assert.True(await client.IsClosedByServerAsync(_ct));
        await using var other = await _daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await other.QueryAsync("QUERY", "[192.0.2.1]", _ct));
    }
}
