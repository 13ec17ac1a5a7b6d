using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portcullis.Net;

/// <summary>
/// Kestrel connection middleware for the PROXY protocol: a connection from a trusted proxy must
/// start with a v1 or v2 header, whose client address then replaces the peer address (so logs and
/// limits see the real client); a connection from anyone else that starts with one is closed.
/// </summary>
public static class ProxyProtocolMiddleware
{
    /// <summary>How long a connection may take to send its first bytes (header or not) before it is closed.</summary>
    public static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Add before <c>UseHttps</c>: the header precedes the TLS handshake.</summary>
    public static ListenOptions UseProxyProtocol(this ListenOptions lo, TrustedProxies trusted, ILogger log, TimeProvider time)
    {
        lo.Use(next => ctx => HandleAsync(ctx, next, trusted, log, time));
        return lo;
    }

    /// <summary>The same, with the logger and clock from the server's services.</summary>
    public static ListenOptions UseProxyProtocol(this ListenOptions lo, TrustedProxies trusted, IServiceProvider services) =>
        lo.UseProxyProtocol(trusted, services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.ProxyProtocol"),
            services.GetRequiredService<TimeProvider>());

    private static async Task HandleAsync(ConnectionContext ctx, ConnectionDelegate next, TrustedProxies trusted, ILogger log, TimeProvider time)
    {
        var peer = ctx.RemoteEndPoint as IPEndPoint;
        bool fromProxy = peer is not null && trusted.Contains(peer.Address);
        using var timeout = new CancellationTokenSource(HeaderTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ctx.ConnectionClosed);
        var input = ctx.Transport.Input;
        while (true)
        {
            System.IO.Pipelines.ReadResult read;
            try
            {
                read = await input.ReadAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                if (fromProxy)
                    log.LogWarning("Closed a connection from proxy {Peer}: no PROXY header within {Seconds} s", peer, HeaderTimeout.TotalSeconds);
                return;
            }
            var buffer = read.Buffer;
            if (!fromProxy)
            {
                var first = buffer.Slice(0, Math.Min(buffer.Length, 12));
                var seen = ProxyProtocol.Detect(first.IsSingleSegment ? first.FirstSpan : first.ToArray());
                if (seen == ProxyParseStatus.Invalid)
                {
                    input.AdvanceTo(buffer.Start); // nothing consumed: TLS/HTTP read the same bytes
                    break;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (seen == ProxyParseStatus.Done)
                {
                    log.LogWarning("Refused a PROXY protocol header from {Peer}, which is not in trusted_proxies", peer);
                    return;
                }
            }
            else
            {
                var status = ProxyProtocol.Parse(buffer, out var header, out int consumed);
                if (status == ProxyParseStatus.Done)
                {
                    input.AdvanceTo(buffer.GetPosition(consumed));
                    // Only the client side is replaced: the local endpoint still names which of our listeners this is.
                    if (header.Source is not null)
                        ctx.RemoteEndPoint = header.Source;
                    log.LogDebug("PROXY header from {Peer}: client {Client}", peer, ctx.RemoteEndPoint);
                    break;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (status == ProxyParseStatus.Invalid)
                {
                    log.LogWarning("Closed a connection from proxy {Peer}: it did not start with a valid PROXY header", peer);
                    return;
                }
            }
            if (read.IsCompleted)
                return;
        }
        await next(ctx);
    }
}
