using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Portcullis.Observability;

namespace Portcullis.Hosting.Socketmap;

/// <summary>
/// A deliberately tiny HTTP/1.x responder for scrapes arriving on the socketmap port: one request,
/// <c>GET|HEAD /metrics</c> answers, anything else 404, then close. Headers are capped.
/// </summary>
public sealed class MetricsHttp(PrometheusExporter exporter)
{
    public const int MaxHeaderBytes = 8192;
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    public async Task ServeAsync(PipeReader input, PipeWriter output, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(ReadTimeout);
        string? requestLine = null;
        try
        {
            while (requestLine is null)
            {
                var result = await input.ReadAsync(cts.Token);
                var buffer = result.Buffer;
                var end = buffer.PositionOf((byte)'\n');
                if (end is { } nl && HeadersComplete(buffer))
                {
                    requestLine = Encoding.ASCII.GetString(buffer.Slice(0, nl).ToArray()).TrimEnd('\r');
                    input.AdvanceTo(buffer.End);
                    break;
                }
                if (buffer.Length > MaxHeaderBytes || result.IsCompleted)
                {
                    input.AdvanceTo(buffer.End);
                    return;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var parts = requestLine.Split(' ');
        bool head = parts[0] == "HEAD";
        bool ok = parts.Length >= 2 && (parts[0] == "GET" || head) && (parts[1] == "/metrics" || parts[1].StartsWith("/metrics?", StringComparison.Ordinal));
        string body = ok ? exporter.Render() : "not found\n";
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        string headers = (ok ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                             : "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n")
            + $"Content-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        output.Write(Encoding.ASCII.GetBytes(headers));
        if (!head)
            output.Write(bytes);
        await output.FlushAsync(ct);
    }

    private static bool HeadersComplete(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8) || new SequenceReader<byte>(buffer).TryReadTo(out ReadOnlySequence<byte> _, "\n\n"u8);
    }
}
