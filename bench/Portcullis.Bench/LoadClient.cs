using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Bench;

public sealed record LoadResult(long Requests, long Errors, TimeSpan Elapsed, double P50Us, double P99Us, double P999Us, long PeakRssBytes)
{
    public double Throughput => Requests / Elapsed.TotalSeconds;
}

/// <summary>
/// Socketmap load: each connection sends a request, waits for its reply, repeats (like Postfix's
/// smtp processes); latency is measured per request; the server's RSS is sampled meanwhile.
/// </summary>
public static class LoadClient
{
    public static async Task<LoadResult> RunAsync(int port, int connections, Func<int, long, string> request,
        TimeSpan? duration, long? totalRequests, int serverPid, Func<string, bool> ok)
    {
        var latencies = new List<long>[connections];
        long errors = 0, sent = 0, peak = 0;
        using var stop = new CancellationTokenSource();
        if (duration is { } d)
            stop.CancelAfter(d);
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Rss(serverPid));
                try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var mine = latencies[c] = new List<long>(1 << 16);
            using var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port);
            var stream = tcp.GetStream();
            var reader = new ReplyReader(stream);
            // The client shares the machine with the server: it reuses encoded requests and decodes
            // a reply only when it differs from the last good one.
            var frames = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            byte[] lastGood = [];
            while (!stop.IsCancellationRequested)
            {
                long n = Interlocked.Increment(ref sent) - 1;
                if (totalRequests is { } t && n >= t)
                    break;
                string text = request(c, n);
                if (!frames.TryGetValue(text, out var frame))
                {
                    byte[] payload = Encoding.ASCII.GetBytes(text);
                    frame = [.. Encoding.ASCII.GetBytes($"{payload.Length}:"), .. payload, (byte)','];
                    if (frames.Count < 1024)
                        frames[text] = frame;
                }
                long start = Stopwatch.GetTimestamp();
                await stream.WriteAsync(frame);
                var reply = await reader.NextAsync();
                mine.Add(Stopwatch.GetTimestamp() - start);
                if (reply.Span.SequenceEqual(lastGood))
                    continue;
                if (ok(Encoding.ASCII.GetString(reply.Span)))
                    lastGood = reply.ToArray();
                else
                    Interlocked.Increment(ref errors);
            }
        }));
        sw.Stop();
        await stop.CancelAsync();
        await sampler;
        peak = Math.Max(peak, Rss(serverPid));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Pct(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1e6 / Stopwatch.Frequency;
        return new LoadResult(all.Length, errors, sw.Elapsed, Pct(0.50), Pct(0.99), Pct(0.999), peak);
    }

    /// <summary>Netstring replies from a buffered stream: one read usually holds a whole reply.</summary>
    private sealed class ReplyReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[128 * 1024];
        private int _start, _end;

        public async ValueTask<ReadOnlyMemory<byte>> NextAsync()
        {
            while (true)
            {
                var data = _buffer.AsMemory(_start, _end - _start);
                int colon = data.Span.IndexOf((byte)':');
                if (colon > 0)
                {
                    int len = 0;
                    foreach (byte b in data.Span[..colon])
                        len = len * 10 + (b - '0');
                    if (data.Length >= colon + 1 + len + 1)
                    {
                        _start += colon + 1 + len + 1;
                        return data.Slice(colon + 1, len);
                    }
                }
                if (_start > 0)
                {
                    data.CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
                int n = await stream.ReadAsync(_buffer.AsMemory(_end));
                if (n == 0)
                    throw new IOException("server closed the connection");
                _end += n;
            }
        }
    }

    /// <summary>Where the resident memory is: anonymous (heaps), file-backed (mapped assemblies, native libraries), shared (JIT code).</summary>
    public static string RssBreakdown(int pid)
    {
        try
        {
            var parts = File.ReadLines($"/proc/{pid}/status")
                .Where(l => l.StartsWith("RssAnon:", StringComparison.Ordinal) || l.StartsWith("RssFile:", StringComparison.Ordinal) || l.StartsWith("RssShmem:", StringComparison.Ordinal))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(f => $"{f[0][3..^1].ToLowerInvariant()} {long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0:0.0}");
            return string.Join(", ", parts) + " MB";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static long Rss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
