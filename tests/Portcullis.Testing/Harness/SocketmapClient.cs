using System.Net.Sockets;
using System.Text;

namespace Portcullis.Testing.Harness;

/// <summary>A minimal socketmap client speaking netstrings, as Postfix does, over one persistent connection.</summary>
public sealed class SocketmapClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private SocketmapClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<SocketmapClient> ConnectAsync(int port, CancellationToken ct)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, ct);
        return new SocketmapClient(tcp);
    }

    public static byte[] Frame(string payload)
    {
        byte[] body = Encoding.UTF8.GetBytes(payload);
        return [.. Encoding.ASCII.GetBytes($"{body.Length}:"), .. body, (byte)','];
    }

    public Task SendRawAsync(byte[] bytes, CancellationToken ct) => _stream.WriteAsync(bytes, ct).AsTask();

    /// <summary>Sends one request and reads one reply payload.</summary>
    public async Task<string> QueryAsync(string map, string key, CancellationToken ct)
    {
        await SendRawAsync(Frame($"{map} {key}"), ct);
        return await ReadReplyAsync(ct) ?? throw new IOException("connection closed before a reply");
    }

    /// <summary>Reads one netstring reply; null if the server closed the connection.</summary>
    public async Task<string?> ReadReplyAsync(CancellationToken ct)
    {
        var len = new StringBuilder();
        while (true)
        {
            int b = await ReadByteAsync(ct);
            if (b < 0)
                return null;
            if (b == ':')
                break;
            len.Append((char)b);
        }
        byte[] body = new byte[int.Parse(len.ToString(), System.Globalization.CultureInfo.InvariantCulture) + 1];
        await _stream.ReadExactlyAsync(body, ct);
        if (body[^1] != ',')
            throw new IOException("reply netstring lacks its comma");
        return Encoding.UTF8.GetString(body, 0, body.Length - 1);
    }

    /// <summary>True once the server has closed the connection (reads EOF).</summary>
    public async Task<bool> IsClosedByServerAsync(CancellationToken ct) => await ReadByteAsync(ct) < 0;

    private async Task<int> ReadByteAsync(CancellationToken ct)
    {
        byte[] one = new byte[1];
        try
        {
            return await _stream.ReadAsync(one, ct) == 0 ? -1 : one[0];
        }
        catch (IOException)
        {
            return -1;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
