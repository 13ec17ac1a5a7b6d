using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Observability;
using Portcullis.Storage.Sessions;

namespace Portcullis.TlsRpt.Sending;

/// <summary>
/// Listens on the UNIX datagram socket Postfix's libtlsrpt sends to (<c>smtp_tlsrpt_socket_name</c>)
/// and counts each session into the <see cref="SessionStore"/>. Receiving never waits for the
/// database: datagrams go through a bounded queue and are written in batches, one transaction each.
/// libtlsrpt sends non-blocking, so a collector that fell behind would lose events in the kernel.
/// </summary>
public sealed class DatagramCollector(string path, UnixFileMode mode, SessionStore store, TimeProvider time,
    PortcullisMetrics metrics, ILogger<DatagramCollector> log) : BackgroundService
{
    private const int QueueCapacity = 100_000;
    private const int MaxBatch = 500;
    private readonly Channel<(DateOnly, SessionEvent)> _queue = Channel.CreateBounded<(DateOnly, SessionEvent)>(
        new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true });
    private long _invalidLogged;

    private Socket? _socket;

    /// <summary>Binds here, not in ExecuteAsync (which runs later, on its own): start-up binds under a restrictive
    /// umask, so the socket is never more open than <paramref name="mode"/>. The daemon has cleared the path.</summary>
    public override Task StartAsync(CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, mode);
            // Bursts of many small datagrams: a larger kernel buffer keeps them while a batch commits.
            socket.ReceiveBufferSize = 4 << 20;
            _socket = socket;
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            // The policy server keeps running; only TLS-RPT collection is off.
            log.LogError("Cannot listen on tlsrpt.collect_socket {Path}: {Error}; TLS-RPT sessions are not collected", path, ex.Message);
        }
        return base.StartAsync(ct);
    }

    public override void Dispose()
    {
        _socket?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        if (_socket is not { } socket)
            return;
        log.LogInformation("Collecting TLS-RPT session results from Postfix on {Path}", path);
        var writer = Task.Run(WriteAsync, CancellationToken.None);
        var buffer = new byte[DatagramParser.MaxDatagramBytes + 1];
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
                Accept(buffer.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException ex)
        {
            // An exception here would stop the whole host; only collection ends.
            log.LogError("TLS-RPT collection on {Path} stopped: {Error}", path, ex.Message);
        }
        finally
        {
            _queue.Writer.TryComplete();
            await writer;
            File.Delete(path);
        }
    }

    private void Accept(ReadOnlySpan<byte> datagram)
    {
        var (e, error) = DatagramParser.Parse(datagram);
        if (e is null)
        {
            metrics.TlsRptDatagrams.Add(1, PortcullisMetrics.Tags("outcome", "invalid"));
            // One bad sender could flood the log: the first few, then every 1000th.
            long n = Interlocked.Increment(ref _invalidLogged);
            if (n <= 5 || n % 1000 == 0)
                log.LogWarning("Ignored TLS-RPT datagram ({Count} so far): {Error}", n, error);
            return;
        }
        var day = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (!_queue.Writer.TryWrite((day, e)))
            metrics.TlsRptDatagrams.Add(1, PortcullisMetrics.Tags("outcome", "dropped"));
    }

    private async Task WriteAsync()
    {
        var batch = new List<(DateOnly, SessionEvent)>(MaxBatch);
        // Drains what is queued even after shutdown starts, so accepted sessions are not lost.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                batch.Add(item);
            try
            {
                await store.RecordAsync(batch, CancellationToken.None); // drained to the end, like the queue
                Count(batch);
            }
            catch (Exception ex)
            {
                log.LogError("Could not record {Count} TLS-RPT session(s): {Error}", batch.Count, ex.Message);
            }
            batch.Clear();
        }
    }

    // Counted once committed, so the metric never runs ahead of what a report will contain.
    private void Count(List<(DateOnly, SessionEvent)> batch)
    {
        metrics.TlsRptDatagrams.Add(batch.Count, PortcullisMetrics.Tags("outcome", "recorded"));
        foreach (var p in batch.SelectMany(b => b.Item2.Policies))
        {
            metrics.TlsRptOutgoingSessions.Add(1, new System.Diagnostics.TagList
                { { "policy_type", p.PolicyType }, { "result", p.Failed ? "failure" : "success" } });
        }
    }
}
