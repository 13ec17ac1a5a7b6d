using System.Net;
using System.Text;
using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The socketmap framing rules against the real daemon on a real socket. The keys used need no
/// lookups, so the resolver is an address where nothing listens.
/// </summary>
public sealed class SocketmapProtocolTests : IAsyncLifetime
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-proto-").FullName;
    private DaemonProcess _daemon = null!;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    public async Task InitializeAsync() =>
        _daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"), null, _ct);

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Theory]
    [InlineData("QUERY", ".example.com", "NOTFOUND ")]
    [InlineData("QUERY", "[192.0.2.1]", "NOTFOUND ")]
    [InlineData("QUERY", "[ipv6:2001:db8::1]", "NOTFOUND ")]
    [InlineData("QUERYwithTLSRPT", "[192.0.2.1]:25", "NOTFOUND ")]
    [InlineData("QUERY", "bad_name!.example", "NOTFOUND ")]
    [InlineData("LOOKUP", "example.com", "PERM unknown map name LOOKUP; use QUERY or QUERYwithTLSRPT")]
    public async Task Answers_without_lookups(string map, string key, string expected)
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        Assert.Equal(expected, await client.QueryAsync(map, key, _ct));
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order_on_one_connection()
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        byte[] three = [.. SocketmapClient.Frame("QUERY .a.example"), .. SocketmapClient.Frame("NOPE x"),
            .. SocketmapClient.Frame("QUERY [192.0.2.7]")];
        await client.SendRawAsync(three, _ct);
        Assert.Equal("NOTFOUND ", await client.ReadReplyAsync(_ct));
        Assert.StartsWith("PERM unknown map name NOPE", await client.ReadReplyAsync(_ct));
        Assert.Equal("NOTFOUND ", await client.ReadReplyAsync(_ct));
        // The connection stays open for more.
        Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", ".b.example", _ct));
    }

    [Fact]
    public async Task A_request_split_across_writes_is_reassembled()
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        byte[] frame = SocketmapClient.Frame("QUERY .split.example");
        foreach (byte b in frame)
        {
            await client.SendRawAsync([b], _ct);
            await Task.Delay(2, _ct);
        }
        Assert.Equal("NOTFOUND ", await client.ReadReplyAsync(_ct));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "oversized request (10,001 bytes)", "10001:" + new string('a', 10001) + "," },
        { "non-digit length", "1x:QUERY a," },
        { "leading zero", "05:QUERY,"},
        { "missing comma", "9:QUERY a.bX" },
        { "no length", ":QUERY a," },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_framing_closes_only_that_connection_after_earlier_answers(string what, string bytes)
    {
        await using var bystander = await _daemon.ConnectAsync(_ct);
        await using var client = await _daemon.ConnectAsync(_ct);
        await client.SendRawAsync([.. SocketmapClient.Frame("QUERY .first.example"), .. Encoding.ASCII.GetBytes(bytes)], _ct);
        Assert.Equal("NOTFOUND ", await client.ReadReplyAsync(_ct));
        Assert.True(await client.IsClosedByServerAsync(_ct), what);
        Assert.Equal("NOTFOUND ", await bystander.QueryAsync("QUERY", ".still.example", _ct));
        await WaitForLogAsync("Closing socketmap connection");
    }

    [Fact]
    public async Task Sigterm_stops_the_daemon_cleanly()
    {
        Assert.Equal(0, await _daemon.StopAsync(_ct));
        Assert.Contains("Portcullis stopped", _daemon.Output);
    }

    [Fact]
    public async Task Sigterm_with_idle_connections_and_a_request_in_flight_exits_after_the_grace()
    {
        // Postfix keeps connections open between lookups.
        var idle = new List<SocketmapClient>();
        for (int i = 0; i < 20; i++)
        {
            var c = await _daemon.ConnectAsync(_ct);
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $".idle{i}.example", _ct));
            idle.Add(c);
        }
        // A real domain: its lookups go to a resolver that never answers (2 s x 2 attempts), so it is in flight.
        await using var busy = await _daemon.ConnectAsync(_ct);
        var inFlight = busy.QueryAsync("QUERY", "slow.example", _ct);
        await Task.Delay(300, _ct);
        Assert.False(inFlight.IsCompleted);

        var sw = System.Diagnostics.Stopwatch.StartNew();
        int exit = await _daemon.StopAsync(_ct);
        var took = sw.Elapsed;
        Assert.Equal(0, exit);
        // The request being answered got an answer (deferral, never a guess), the idle ones were closed.
        // The text tells the grace (1 s) apart from the lookup's own timeout (4 s), which would say otherwise.
        Assert.Equal("TEMP Portcullis is restarting; try again", await inFlight.WaitAsync(TimeSpan.FromSeconds(5), _ct));
        foreach (var c in idle)
        {
            Assert.True(await c.IsClosedByServerAsync(_ct));
            await c.DisposeAsync();
        }
        Assert.True(took < TimeSpan.FromSeconds(4), $"SIGTERM to exit took {took.TotalMilliseconds:0} ms");
        Console.WriteLine($"SIGTERM to exit: {took.TotalMilliseconds:0} ms");
    }

    private async Task WaitForLogAsync(string text) => Assert.True(await _daemon.WaitForOutputAsync(text), _daemon.Output);
}
