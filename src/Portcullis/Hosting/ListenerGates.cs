using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portcullis.Configuration;
using Portcullis.Observability;

namespace Portcullis.Hosting;

/// <summary>
/// Transport settings and connection slots: socketmap listeners share one pool of
/// <c>limits.max_connections</c>, the HTTP listeners (metrics, TLS-RPT) another, so a flood on a
/// public HTTP port never takes Postfix's slots. The control socket (mode 0600) is not limited.
/// </summary>
public static class ListenerGates
{
    /// <summary>Requested listen backlog; the kernel caps it at net.core.somaxconn (4096 on current Linux).</summary>
    public const int ListenBacklog = 4096;

    /// <summary>Bytes read ahead per connection before the transport stops reading (backpressure); above any request.</summary>
    public const int MaxReadBuffer = 64 * 1024;

    /// <param name="socketmapEndpoints">Filled while Kestrel is configured: socketmap TCP endpoints and unix paths.</param>
    public static void Configure(WebApplicationBuilder builder, Settings settings, IReadOnlySet<string> socketmapEndpoints)
    {
        builder.WebHost.UseSockets(o =>
        {
            o.Backlog = ListenBacklog;
            o.MaxReadBufferSize = MaxReadBuffer;
        });
        int limit = settings.Config.Limits.MaxConnections;
        builder.Services.RemoveAll<IConnectionListenerFactory>();
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp =>
        {
            var metrics = sp.GetRequiredService<PortcullisMetrics>();
            var time = sp.GetRequiredService<TimeProvider>();
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Connections");
            var socketmap = new ConnectionGate("socketmap", limit, metrics, log, time);
            var http = new ConnectionGate("http", limit, metrics, log, time);
            var transport = new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(),
                sp.GetRequiredService<ILoggerFactory>());
            return new GatedListenerFactory(transport, endpoint => endpoint switch
            {
                FileHandleEndPoint => socketmap, // socket activation hands over only socketmap sockets
                _ when endpoint.ToString() is { } name && socketmapEndpoints.Contains(name) => socketmap,
                System.Net.Sockets.UnixDomainSocketEndPoint => null, // the control socket
                _ => http,
            });
        });
    }
}
