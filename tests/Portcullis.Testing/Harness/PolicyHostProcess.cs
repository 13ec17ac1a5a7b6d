using System.Net;
using System.Net.Sockets;
using Portcullis.Testing.World;

namespace Portcullis.Testing.Harness;

/// <summary>The real `portcullis policy-host` binary, started and waited for until it accepts on an address.</summary>
public static class PolicyHostProcess
{
    /// <summary>A random 127.10.x.y so parallel test runs on one machine rarely meet on port 443/80.</summary>
    public static IPAddress RandomLoopback() => IPAddress.Parse($"127.10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(2, 250)}");

    public static async Task<ChildProcess> StartAsync(string config, IPEndPoint ready, string dir, CancellationToken ct)
    {
        var host = ChildProcess.Start("dotnet", [DaemonProcess.Binary, "policy-host", "--config", config], dir);
        for (int i = 0; i < 400; i++)
        {
            try
            {
                using var t = new TcpClient();
                await t.ConnectAsync(ready, ct);
                return host;
            }
            catch (SocketException)
            {
                if (host.HasExited)
                    break;
                await Task.Delay(50, ct);
            }
        }
        string output = host.Output;
        await host.DisposeAsync();
        throw new InvalidOperationException("policy-host did not listen on " + ready + ":\n" + output);
    }
}
