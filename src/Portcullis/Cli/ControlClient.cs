using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Hosting.Control;

namespace Portcullis.Cli;

/// <summary>The client end of the daemon's control socket (see <see cref="ControlConnectionHandler"/>).</summary>
public static class ControlClient
{
    /// <summary>Connect, command and the whole reply together.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Where the control socket is, for messages.</summary>
    public static string Describe(Settings s) => s.ControlSocket ?? "(control socket disabled)";

    /// <summary>One command; the raw JSON reply, or null when no daemon answers.</summary>
    public static async Task<string?> AskAsync(Settings s, string command, CancellationToken ct)
    {
        if (s.ControlSocket is not { } path || !File.Exists(path))
            return null;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(Timeout);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
            await socket.SendAsync(Encoding.UTF8.GetBytes(command + "\n"), cts.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(cts.Token);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary><c>list</c> or <c>show DOMAIN</c> as values; null when no daemon answers.</summary>
    public static async Task<List<CacheItem>?> ItemsAsync(Settings s, string command, CancellationToken ct) =>
        await AskAsync(s, command, ct) is { } json ? JsonSerializer.Deserialize(json, ControlJson.Default.ListCacheItem) ?? [] : null;
}
