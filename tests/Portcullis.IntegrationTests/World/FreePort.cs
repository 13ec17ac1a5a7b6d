using System.Net;
using System.Net.Sockets;

namespace Portcullis.IntegrationTests.World;

/// <summary>Finds currently free loopback ports. Racy by nature, so servers started on them should be retried on bind failure.</summary>
public static class FreePort
{
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
