using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The attacks of issue 11 on the socketmap listener, against the real daemon: dripping clients,
/// pipelining clients that never read, and more clients than <c>limits.max_connections</c>.
/// Every key used needs no lookups, so the resolver is an address where nothing listens.
/// </summary>
[Collection(SerialMeasurements.Name)] // memory and deadline bounds, measured without the rest of the suite beside them
public sealed class ListenerLimitsTests : IAsyncLifetime
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-limits-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(150)).Token;
    private DaemonProcess? _daemon;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_daemon is not null)
            await _daemon.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private async Task<DaemonProcess> StartAsync(string limits) =>
        _daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"),
            "limits:\n" + limits, _ct);

    [Fact]
    public async Task Dripping_clients_are_cut_at_the_request_deadline_and_a_waiting_query_is_answered()
    {
        const int slots = 40;
        var daemon = await StartAsync($"  max_connections: {slots}\n  idle_timeout: 3\n");
        // Every slot taken by a client sending one byte of a long request every 300 ms.
        var drips = new List<Task<TimeSpan>>();
        for (int i = 0; i < slots; i++)
            drips.Add(await DripAsync(daemon.Port, TimeSpan.FromMilliseconds(300)));
        await Task.Delay(500, _ct);

        var sw = Stopwatch.StartNew();
        await using var real = await daemon.ConnectAsync(_ct); // waits in the backlog until a slot frees
        string answer = await real.QueryAsync("QUERY", ".real.example", _ct).WaitAsync(TimeSpan.FromSeconds(20), _ct);
        Assert.Equal("NOTFOUND ", answer);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(12), $"answered after {sw.Elapsed.TotalSeconds:0.0} s");

        var held = await Task.WhenAll(drips).WaitAsync(TimeSpan.FromSeconds(20), _ct);
        // Each was closed at idle_timeout after its first byte, however fast it dripped (robust bounds: load only delays).
        Assert.All(held, t => Assert.InRange(t.TotalSeconds, 2.5, 8));
        Assert.True(await daemon.WaitForOutputAsync("no complete request for 3 s"), daemon.Output);
    }

    [Fact]
    public async Task Pipelining_clients_that_never_read_stay_bounded_and_are_closed_after_the_write_deadline()
    {
        const int clients = 150;
        var daemon = await StartAsync("  write_timeout: 2\n  idle_timeout: 60\n");
        long idle = daemon.ResidentBytes();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        long peak = 0;
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, daemon.ResidentBytes());
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);

        // Unknown map names get a ~60-byte PERM for each 6-byte request: a 9x amplification.
        byte[] chunk = [.. Enumerable.Repeat("3:X a,"u8.ToArray(), 6000).SelectMany(b => b)];
        var floods = Enumerable.Range(0, clients).Select(_ => FloodAsync(daemon.Port, chunk)).ToList();

        // Normal queries are answered meanwhile.
        await Task.Delay(1000, _ct);
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            await using var normal = await daemon.ConnectAsync(_ct);
            Assert.Equal("NOTFOUND ", await normal.QueryAsync("QUERY", ".normal.example", _ct).WaitAsync(TimeSpan.FromSeconds(10), _ct));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"normal query took {sw.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(500, _ct);
        }

        // Every flooding connection is closed by the server once its answers stop draining for write_timeout.
        var lifetimes = await Task.WhenAll(floods).WaitAsync(TimeSpan.FromSeconds(60), _ct);
        await stop.CancelAsync();
        await sampler;
        Assert.All(lifetimes, t => Assert.InRange(t.TotalSeconds, 2, 40));
        Assert.True(await daemon.WaitForOutputAsync("answers not read within 2 s"), daemon.Output);
        Assert.True(peak < 200L * 1024 * 1024,
            $"daemon RSS peaked at {peak / 1024 / 1024} MB (idle {idle / 1024 / 1024} MB) with {clients} non-reading clients");
        Console.WriteLine($"RSS idle {idle / 1024 / 1024} MB, peak {peak / 1024 / 1024} MB with {clients} clients; " +
            $"closed after {lifetimes.Min(t => t.TotalSeconds):0.0}..{lifetimes.Max(t => t.TotalSeconds):0.0} s");
    }

    [Fact]
    public async Task Connections_over_the_limit_wait_in_the_backlog_and_are_answered_when_slots_free()
    {
        const int slots = 20, waiting = 100;
        var daemon = await StartAsync($"  max_connections: {slots}\n  idle_timeout: 30\n");
        var holders = new List<SocketmapClient>();
        for (int i = 0; i < slots; i++)
        {
            var c = await daemon.ConnectAsync(_ct);
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $".hold{i}.example", _ct));
            holders.Add(c);
        }
        // These connect (the kernel completes the handshake), send their query and wait.
        var waiters = new List<Task<string?>>();
        for (int i = 0; i < waiting; i++)
            waiters.Add(AskAndCloseAsync(daemon.Port, $".wait{i}.example"));
        await Task.Delay(1500, _ct);
        Assert.All(waiters, w => Assert.False(w.IsCompleted, "a connection over the limit was answered or closed while all slots were held"));

        foreach (var c in holders)
            await c.DisposeAsync();
        var answers = await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(30), _ct);
        Assert.All(answers, a => Assert.Equal("NOTFOUND ", a));

        // One warning per episode, not one per waiting client; and a metric for it.
        Assert.True(await daemon.WaitForOutputAsync("socketmap connection limit of 20 reached"), daemon.Output);
        int lines = daemon.Output.Split('\n').Count(l => l.Contains("connection limit of 20 reached", StringComparison.Ordinal));
        Assert.Equal(1, lines);
        string metrics = await ScrapeAsync(daemon.Port);
        Assert.Contains("portcullis_connection_limit_reached_total{listener=\"socketmap\"}", metrics);
        Assert.Contains("portcullis_open_connections", metrics);
    }

    /// <summary>Connects and drips "100:QUERY …" one byte per interval; completes with the time from the first byte to the server's close.</summary>
    private async Task<Task<TimeSpan>> DripAsync(int port, TimeSpan interval)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, _ct);
        return Task.Run(async () =>
        {
            using var s = socket;
            byte[] request = Encoding.ASCII.GetBytes("100:QUERY " + new string('a', 90) + ",");
            var sw = Stopwatch.StartNew();
            var closed = s.ReceiveAsync(new byte[16], SocketFlags.None, _ct).AsTask();
            try
            {
                for (int i = 0; i < request.Length && !closed.IsCompleted; i++)
                {
                    await s.SendAsync(request.AsMemory(i, 1), SocketFlags.None, _ct);
                    await Task.WhenAny(closed, Task.Delay(interval, _ct));
                }
                await closed.WaitAsync(TimeSpan.FromSeconds(30), _ct);
            }
            catch (SocketException)
            {
            }
            return sw.Elapsed;
        }, _ct);
    }

    /// <summary>Writes <paramref name="chunk"/> over and over, never reading; returns when the server has closed the connection.</summary>
    private async Task<TimeSpan> FloodAsync(int port, byte[] chunk)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(IPAddress.Loopback, port, _ct);
        var sw = Stopwatch.StartNew();
        try
        {
            while (sw.Elapsed < TimeSpan.FromSeconds(50))
                await socket.SendAsync(chunk, SocketFlags.None, _ct);
        }
        catch (SocketException)
        {
        }
        return sw.Elapsed;
    }

    private async Task<string?> AskAndCloseAsync(int port, string key)
    {
        await using var c = await SocketmapClient.ConnectAsync(port, _ct);
        await c.SendRawAsync(SocketmapClient.Frame("QUERY " + key), _ct);
        return await c.ReadReplyAsync(_ct);
    }

    private async Task<string> ScrapeAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, _ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), _ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(_ct);
    }
}
