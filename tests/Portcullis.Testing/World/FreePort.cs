using System.Net;
using System.Net.Sockets;

namespace Portcullis.Testing.World;

/// <summary>Finds currently free loopback ports. Racy by nature, so servers started on them should be retried on bind failure.</summary>
public static class FreePort
{
    /// <summary>Polls 127.0.0.1:<paramref name="port"/> every 100 ms until something accepts, at most <paramref name="attempts"/> times.</summary>
    public static async Task<bool> WaitUntilListeningAsync(int port, int attempts, CancellationToken ct)
    {
        for (int i = 0; i < attempts; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, ct);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100, ct);
            }
        }
        return false;
    }

    /// <summary>A port free for TCP on the given address (default 127.0.0.1).</summary>
    public static int Tcp(IPAddress? address = null)
    {
        using var l = new TcpListener(address ?? IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A port free for both TCP and UDP (DNS servers need both).</summary>
    public static int TcpAndUdp(IPAddress? address = null)
    {
        var ip = address ?? IPAddress.Loopback;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Tcp(ip);
            try
            {
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(ip, port));
                return port;
            }
            catch (SocketException)
            {
                // UDP side taken; try another.
            }
        }
        throw new InvalidOperationException("Could not find a free TCP+UDP port on " + ip);
    }
}
