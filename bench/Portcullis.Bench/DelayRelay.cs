using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Portcullis.Bench;

/// <summary>
/// A userspace stand-in for <c>tc qdisc … netem delay</c> (this kernel has no sch_netem): forwards
/// UDP datagrams and TCP streams to a target, holding every packet for a one-way delay in each
/// direction, so a round trip costs 2 × delay. TCP connections also pay the handshake round trip
/// the kernel would otherwise answer at once: client data reaches the target no earlier than
/// 3 × delay after the connect (SYN, SYN-ACK, then the data), as on a real link.
/// </summary>
public sealed class DelayRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly TimeSpan _delay;
    private readonly Socket? _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private DelayRelay(IPEndPoint target, TimeSpan delay, TcpListener tcp, Socket? udp)
    {
        _target = target;
        _delay = delay;
        _tcp = tcp;
        _udp = udp;
        _loops.Add(AcceptLoopAsync(_stop.Token));
        if (udp is not null)
            _loops.Add(UdpLoopAsync(udp, _stop.Token));
    }

    public IPEndPoint Endpoint => (IPEndPoint)_tcp.LocalEndpoint;

    /// <summary>UDP and TCP on one 127.0.0.1 port (DNS, with TCP fallback).</summary>
    public static DelayRelay Dns(IPEndPoint target, TimeSpan delay)
    {
        int port = Portcullis.Testing.World.FreePort.TcpAndUdp();
        var tcp = new TcpListener(IPAddress.Loopback, port);
        tcp.Start();
        var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
        return new DelayRelay(target, delay, tcp, udp);
    }

    /// <summary>TCP only, on a listener the caller bound (e.g. its own loopback address on port 443).</summary>
    public static DelayRelay Tcp(TcpListener listener, IPEndPoint target, TimeSpan delay) => new(target, delay, listener, null);

    private async Task UdpLoopAsync(Socket front, CancellationToken ct)
    {
        var upstreams = new Dictionary<EndPoint, Socket>();
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await front.ReceiveFromAsync(buffer, SocketFlags.None, any, ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            var client = r.RemoteEndPoint;
            if (!upstreams.TryGetValue(client, out var up))
            {
                // One upstream socket per client port, so replies find their way back.
                up = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                up.Connect(_target);
                upstreams[client] = up;
                _ = UdpRepliesAsync(up, front, client, ct);
            }
            byte[] datagram = buffer.AsSpan(0, r.ReceivedBytes).ToArray();
            _ = LaterAsync(() => up.SendAsync(datagram, SocketFlags.None, ct).AsTask(), Due(), ct);
        }
        foreach (var s in upstreams.Values)
            s.Dispose();
    }

    private async Task UdpRepliesAsync(Socket up, Socket front, EndPoint client, CancellationToken ct)
    {
        var buffer = new byte[65536];
        while (!ct.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await up.ReceiveAsync(buffer, SocketFlags.None, ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            byte[] datagram = buffer.AsSpan(0, n).ToArray();
            _ = LaterAsync(() => front.SendToAsync(datagram, SocketFlags.None, client, ct).AsTask(), Due(), ct);
        }
    }

    private long Due() => Stopwatch.GetTimestamp() + (long)(_delay.TotalSeconds * Stopwatch.Frequency);

    private static async Task LaterAsync(Func<Task> send, long due, CancellationToken ct)
    {
        try
        {
            await DelayClock.Until(due).WaitAsync(ct);
            await send();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptSocketAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = RelayConnectionAsync(client, ct);
        }
    }

    private async Task RelayConnectionAsync(Socket client, CancellationToken ct)
    {
        long accepted = Stopwatch.GetTimestamp();
        using var _ = client;
        using var up = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await up.ConnectAsync(_target, ct);
            // Client data cannot arrive before SYN, SYN-ACK and the data itself crossed the link.
            var handshake = TimeSpan.FromTicks(_delay.Ticks * 3);
            await Task.WhenAll(PumpAsync(client, up, accepted, handshake, ct), PumpAsync(up, client, accepted, TimeSpan.Zero, ct));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    // One direction: read as it comes, deliver each chunk (in order) once its delay has passed.
    private async Task PumpAsync(Socket from, Socket to, long accepted, TimeSpan notBefore, CancellationToken ct)
    {
        var queue = Channel.CreateUnbounded<(long DueTicks, byte[]? Data)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        long earliest = accepted + (long)(notBefore.TotalSeconds * Stopwatch.Frequency);
        long delayTicks = (long)(_delay.TotalSeconds * Stopwatch.Frequency);
        var writer = Task.Run(async () =>
        {
            await foreach (var (due, data) in queue.Reader.ReadAllAsync(ct))
            {
                await DelayClock.Until(due).WaitAsync(ct);
                if (data is null)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(data, SocketFlags.None, ct);
            }
        }, ct);
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
                long due = Math.Max(Stopwatch.GetTimestamp() + delayTicks, earliest);
                queue.Writer.TryWrite((due, n == 0 ? null : buffer.AsSpan(0, n).ToArray()));
                if (n == 0)
                    break;
            }
        }
        finally
        {
            queue.Writer.TryComplete();
        }
        await writer;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _tcp.Stop();
        _udp?.Dispose();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>
/// Wakes waiters at a Stopwatch timestamp to within about 0.1 ms. Task.Delay is too coarse here:
/// Task.Delay(10) measured 12.3 ms at the median on this machine, and a round trip has several hops.
/// One thread sleeps in 1 ms steps and spins only for the last fraction of a millisecond.
/// </summary>
internal static class DelayClock
{
    private static readonly PriorityQueue<TaskCompletionSource, long> Queue = new();
    private static readonly object Gate = new();
    private static readonly long OneMs = Stopwatch.Frequency / 1000;

    static DelayClock() => new Thread(Run) { IsBackground = true, Name = "delay clock" }.Start();

    public static Task Until(long due)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            Queue.Enqueue(tcs, due);
            Monitor.Pulse(Gate);
        }
        return tcs.Task;
    }

    private static void Run()
    {
        while (true)
        {
            TaskCompletionSource? ready = null;
            lock (Gate)
            {
                if (!Queue.TryPeek(out var next, out long due))
                {
                    Monitor.Wait(Gate);
                    continue;
                }
                long left = due - Stopwatch.GetTimestamp();
                if (left <= 0)
                    ready = Queue.Dequeue();
                else if (left > OneMs + OneMs / 2)
                    Monitor.Wait(Gate, 1);
            }
            if (ready is not null)
                ready.SetResult();
            else
                Thread.SpinWait(20);
        }
    }
}
