using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Core.Protocol;
using Portcullis.Observability;

namespace Portcullis.Hosting.Socketmap;

/// <summary>
/// One Postfix connection: read, answer every complete netstring in order, flush, repeat.
/// Pipelined requests work; a framing error closes only this connection. Three deadlines bound
/// what a client can hold: the next complete request (partial bytes do not extend it), unflushed
/// answers (reading pauses until they drain: backpressure), and draining them to the client.
/// </summary>
public sealed class SocketmapConnectionHandler(SocketmapService service, PortcullisMetrics metrics,
    Settings settings, TimeProvider time, ILogger<SocketmapConnectionHandler> log) : ConnectionHandler
{
    /// <summary>Answers buffered before a flush; more pipelined requests wait (in the input pipe, then the kernel).</summary>
    public const int MaxUnflushedOutput = 64 * 1024;

    private readonly TimeSpan _idle = TimeSpan.FromSeconds(settings.Config.Limits.IdleTimeout);
    private readonly TimeSpan _write = TimeSpan.FromSeconds(settings.Config.Limits.WriteTimeout);
    // On shutdown, how long a request already being answered may still take; then it is answered TEMP.
    private readonly TimeSpan _grace = TimeSpan.FromSeconds(settings.Config.Limits.ShutdownGrace);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var ct = connection.ConnectionClosed;
        // Shutdown asks every connection to close: an idle one goes at once, a request being answered first gets its answer.
        var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var readTimer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var writeTimer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var graceTimer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping, readTimer.Token);
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(ct, writeTimer.Token);
        using var answering = CancellationTokenSource.CreateLinkedTokenSource(ct, graceTimer.Token);
        var grace = _grace;
        using var onStop = stopping.Register(() => graceTimer.CancelAfter(grace));
        metrics.Connections.Add(1);
        bool writeTimedOut = false;
        try
        {
            // The deadline for the next complete request runs from connecting or the last answer, not from the last byte
            // (HTTP scrapes on this port were told apart before, by MetricsSniffing, within the same deadline).
            var requestStart = MetricsSniffing.ConnectedAt(connection) ?? time.GetUtcNow();
            var firstLeft = requestStart + _idle - time.GetUtcNow();
            readTimer.CancelAfter(firstLeft > TimeSpan.Zero ? firstLeft : TimeSpan.Zero);
            while (true)
            {
                var result = await input.ReadAsync(reading.Token);
                readTimer.CancelAfter(Timeout.InfiniteTimeSpan); // answering time is not the client's
                var buffer = result.Buffer;
                var (consumed, answered, full, error) = await AnswerFramesAsync(buffer, output, answering.Token, stopping, ct);
                // Stopped for output space: the rest is complete frames, to be read again without new data.
                input.AdvanceTo(consumed, full ? consumed : buffer.End);
                if (answered > 0)
                {
                    writeTimer.CancelAfter(_write);
                    try
                    {
                        await output.FlushAsync(writing.Token);
                    }
                    catch (OperationCanceledException) when (writeTimer.IsCancellationRequested && !ct.IsCancellationRequested)
                    {
                        writeTimedOut = true;
                        throw;
                    }
                    writeTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                    requestStart = time.GetUtcNow();
                }
                var left = requestStart + _idle - time.GetUtcNow();
                readTimer.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                if (error is not null)
                {
                    metrics.ProtocolErrors.Add(1);
                    log.LogWarning("Closing socketmap connection {Id} from {Remote}: {Error}",
                        connection.ConnectionId, connection.RemoteEndPoint, error);
                    break;
                }
                if (stopping.IsCancellationRequested)
                    break;
                if (result.IsCompleted && !full) // full: complete frames remain to be answered first
                {
                    if (!buffer.Slice(consumed).IsEmpty)
                        log.LogWarning("Socketmap connection {Id} closed mid-request", connection.ConnectionId);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (writeTimedOut)
        {
            log.LogInformation("Closing socketmap connection {Id} from {Remote}: answers not read within {Write} s",
                connection.ConnectionId, connection.RemoteEndPoint, _write.TotalSeconds);
            connection.Abort(new ConnectionAbortedException("write deadline"));
        }
        catch (OperationCanceledException) when (readTimer.IsCancellationRequested && !ct.IsCancellationRequested)
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

    private async ValueTask<(SequencePosition Consumed, int Answered, bool Full, string? Error)> AnswerFramesAsync(
        ReadOnlySequence<byte> buffer, PipeWriter output, CancellationToken answering, CancellationToken stopping, CancellationToken closed)
    {
        var position = buffer.Start;
        int answered = 0;
        while (true)
        {
            if (output.CanGetUnflushedBytes && output.UnflushedBytes >= MaxUnflushedOutput)
                return (position, answered, true, null);
            var (status, payload, next, error) = Next(buffer.Slice(position));
            if (status == FrameStatus.NeedMoreData)
                return (position, answered, false, null);
            if (status == FrameStatus.Invalid)
                return (position, answered, false, error);
            position = next;
            answered++;
            if (payload.IsSingleSegment && service.TryAnswerFromMemory(payload.FirstSpan, output))
                continue;
            SocketmapReply reply;
            if (SocketmapRequest.TryParse(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), out var request, out var why))
            {
                try
                {
                    reply = await service.HandleAsync(request, answering);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested && !closed.IsCancellationRequested)
                {
                    // Shutting down and the answer is not ready within the grace: defer the mail, never guess.
                    reply = SocketmapReply.Temp("Portcullis is restarting; try again");
                }
            }
            else
                reply = SocketmapReply.Perm($"malformed request: {SocketmapRequest.Describe(why)}");
            reply.WriteTo(output);
        }
    }

    // SequenceReader is a ref struct, so it cannot live across the await above.
    private static (FrameStatus, ReadOnlySequence<byte>, SequencePosition, string?) Next(ReadOnlySequence<byte> data)
    {
        var reader = new SequenceReader<byte>(data);
        var status = Netstring.TryRead(ref reader, Netstring.MaxRequestLength, out var payload, out var error);
        return (status, payload, reader.Position, status == FrameStatus.Invalid ? error.Detail : null);
    }
}
