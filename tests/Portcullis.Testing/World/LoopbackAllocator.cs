using System.Net;
using System.Net.Sockets;

namespace Portcullis.Testing.World;

/// <summary>
/// Hands out distinct 127.8.4.x addresses so servers that must use a fixed port (443) can run in parallel.
/// Linux routes all of 127.0.0.0/8 to lo, so no interface setup is needed.
/// </summary>
public static class LoopbackAllocator
{
    // Random start so concurrent test processes on one machine rarely probe the same addresses.
    private static int _next = Random.Shared.Next(250);

    /// <summary>Binds and starts a listener on a free 127.8.4.x address at the given port.</summary>
    public static TcpListener Listen(int port)
    {
        for (var attempt = 0; attempt < 253; attempt++)
        {
            var host = 2 + (int)((uint)Interlocked.Increment(ref _next) % 253);
            var listener = new TcpListener(IPAddress.Parse($"127.8.4.{host}"), port);
            try
            {
                listener.Start();
                return listener;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                listener.Dispose();
            }
        }
        throw new InvalidOperationException($"No free 127.8.4.x address for port {port}.");
    }
}
