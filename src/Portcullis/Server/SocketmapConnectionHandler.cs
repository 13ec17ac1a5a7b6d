using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Core.Protocol;
using Portcullis.Observability;

namespace Portcullis.Server;

/// <summary>
/// One Postfix connection: read, answer every complete netstring in order, flush once, repeat.
/// Pipelined requests work; a framing error closes only this connection.
/// </summary>
public sealed class SocketmapConnectionHandler(SocketmapService service, MetricsHttp metricsHttp, PortcullisMetrics metrics,
    Settings settings, ILogger<SocketmapConnectionHandler> log) : ConnectionHandler
{
    private readonly TimeSpan _idle = TimeSpan.FromSeconds(settings.Config.Limits.IdleTimeout);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var ct = connection.ConnectionClosed;
        // Idle or dripping clients must not hold a connection slot forever.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        metrics.Connections.Add(1);
        try
        {
            // A netstring starts with a digit; a letter means an HTTP client (a Prometheus scrape).
            idle.CancelAfter(_idle);
            var first = await input.ReadAsync(idle.Token);
            bool http = !first.Buffer.IsEmpty && char.IsAsciiLetter((char)first.Buffer.FirstSpan[0]);
            input.AdvanceTo(first.Buffer.Start);
            if (http)
            {
                await metricsHttp.ServeAsync(input, output, ct);
                return;
            }
            while (true)
            {
                idle.CancelAfter(_idle);
                var result = await input.ReadAsync(idle.Token);
                var buffer = result.Buffer;
                var (consumed, error) = await AnswerFramesAsync(buffer, output, ct);
                input.AdvanceTo(consumed, buffer.End);
                await output.FlushAsync(ct);
                if (error is not null)
                {
                    metrics.ProtocolErrors.Add(1);
                    log.LogWarning("Closing socketmap connection {Id} from {Remote}: {Error}",
                        connection.ConnectionId, connection.RemoteEndPoint, error);
                    break;
                }
                if (result.IsCompleted)
                {
                    if (!buffer.Slice(consumed).IsEmpty)
                        log.LogWarning("Socketmap connection {Id} closed mid-request", connection.ConnectionId);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            log.LogInformation("Closing socketmap connection {Id} from {Remote}: no complete request for {Idle} s",
                connection.ConnectionId, connection.RemoteEndPoint, _idle.TotalSeconds);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ConnectionResetException)
        {
        }
        finally
        {
            metrics.Connections.Add(-1);
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }

    private async ValueTask<(SequencePosition Consumed, string? Error)> AnswerFramesAsync(
        ReadOnlySequence<byte> buffer, PipeWriter output, CancellationToken ct)
    {
        var position = buffer.Start;
        while (true)
        {
            var (status, payload, next, error) = Next(buffer.Slice(position));
            if (status == FrameStatus.NeedMoreData)
                return (position, null);
            if (status == FrameStatus.Invalid)
                return (position, error);
            position = next;
            if (payload.IsSingleSegment && service.TryAnswerFromMemory(payload.FirstSpan, output))
                continue;
            SocketmapReply reply;
            if (SocketmapRequest.TryParse(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), out var request, out var why))
                reply = await service.HandleAsync(request, ct);
            else
                reply = SocketmapReply.Perm($"malformed request: {why}");
            reply.WriteTo(output);
        }
    }

    // SequenceReader is a ref struct, so it cannot live across the await above.
    private static (FrameStatus, ReadOnlySequence<byte>, SequencePosition, string?) Next(ReadOnlySequence<byte> data)
    {
        var reader = new SequenceReader<byte>(data);
        var status = Netstring.TryRead(ref reader, Netstring.MaxRequestLength, out var payload, out var error);
        return (status, payload, reader.Position, error);
    }
}
