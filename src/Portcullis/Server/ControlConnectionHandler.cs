using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Core.Protocol;
using Portcullis.Resolution;

namespace Portcullis.Server;

/// <summary>
/// The control socket behind the <c>cache</c> commands: one line in (<c>list</c>, <c>show DOMAIN</c>,
/// <c>purge [DOMAIN]</c>), one JSON document out. It listens only on a unix socket with mode 0600,
/// so only local processes of the daemon's user (and root) can use it.
/// </summary>
public sealed class ControlConnectionHandler(PolicyResolver resolver, LiveSettings settings, ILogger<ControlConnectionHandler> log)
    : ConnectionHandler
{
    public const int MaxCommandBytes = 1024;
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

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
            object reply = await ExecuteAsync(line, ct);
            await connection.Transport.Output.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(reply, Json), ct);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Control command '{Command}' failed", line);
        }
    }

    private async Task<object> ExecuteAsync(string line, CancellationToken ct)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        string? arg = parts.Length > 1 ? Normalize(parts[1]) : null;
        switch (parts.FirstOrDefault())
        {
            case "list":
                return await resolver.ListAsync(settings.Current.Render, ct);
            case "show" when arg is not null:
                return (await resolver.ListAsync(settings.Current.Render, ct)).Where(i => i.Domain == arg).ToList();
            case "purge":
                int n = await resolver.PurgeAsync(arg, ct);
                log.LogInformation("Cache purge of {Domain} via control socket: {Count} entries", arg ?? "all domains", n);
                return new { purged = n };
            default:
                return new { error = $"unknown command '{line}'; use list, show DOMAIN, purge [DOMAIN]" };
        }
    }

    public static string? Normalize(string key) =>
        NextHopParser.Parse(key) is { Kind: NextHopKind.Domain } hop ? hop.Domain : null;
}
