using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Resolution;

namespace Portcullis.Hosting.Control;

/// <summary>
/// The control socket behind the <c>cache</c> commands: one line in (<c>list</c>, <c>show DOMAIN</c>,
/// <c>purge [DOMAIN]</c>), one JSON document out (<see cref="ControlProtocol"/>, <see cref="ControlJson"/>). It listens only on a unix socket with mode 0600,
/// so only local processes of the daemon's user (and root) can use it.
/// </summary>
public sealed class ControlConnectionHandler(PolicyCacheAdmin cache, LiveSettings settings, TimeProvider time, ILogger<ControlConnectionHandler> log)
    : ConnectionHandler
{
    public const int MaxCommandBytes = ControlProtocol.MaxCommandBytes;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var ct = connection.ConnectionClosed;
        string? line = null;
        try
        {
            while (line is null)
            {
                var result = await input.ReadAsync(ct);
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } nl)
                {
                    line = Encoding.UTF8.GetString(buffer.Slice(0, nl).ToArray()).Trim();
                    input.AdvanceTo(buffer.End);
                }
                else if (buffer.Length > MaxCommandBytes || result.IsCompleted)
                {
                    return;
                }
                else
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
            byte[] reply = await ExecuteAsync(line, ct);
            await connection.Transport.Output.WriteAsync(reply, ct);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Control command '{Command}' failed", line);
        }
    }

    private async Task<byte[]> ExecuteAsync(string line, CancellationToken ct)
    {
        var (verb, arg) = ControlProtocol.Parse(line);
        var live = settings.Current;
        switch (verb)
        {
            case ControlProtocol.List:
                return Items(await cache.ListAsync(live.Render, ct), live, null);
            case ControlProtocol.Show when arg is not null:
                return Items(await cache.ListAsync(live.Render, ct), live, arg);
            case ControlProtocol.Purge:
                int n = await cache.PurgeAsync(arg, ct);
                log.LogInformation("Cache purge of {Domain} via control socket: {Count} entries", arg ?? "all domains", n);
                return JsonSerializer.SerializeToUtf8Bytes(new PurgeReply(n), ControlJson.Default.PurgeReply);
            default:
                return JsonSerializer.SerializeToUtf8Bytes(new ErrorReply($"unknown command '{line}'; use list, show DOMAIN, purge [DOMAIN]"),
                    ControlJson.Default.ErrorReply);
        }
    }

    /// <summary>What Postfix gets now per domain: overrides first, as the socketmap answers them.</summary>
    private byte[] Items(IReadOnlyList<Core.Caching.CacheItem> cached, LiveSettings.Snapshot live, string? only)
    {
        var items = Core.Caching.CacheItem.WithOverrides(cached, live.Overrides, time.GetUtcNow());
        return JsonSerializer.SerializeToUtf8Bytes([.. items.Where(i => only is null || i.Domain == only)], ControlJson.Default.ListCacheItem);
    }
}
