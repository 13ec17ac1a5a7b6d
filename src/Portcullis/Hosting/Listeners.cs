using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Portcullis.Configuration;
using Portcullis.Hosting.Control;
using Portcullis.Hosting.Http;
using Portcullis.Hosting.Socketmap;
using Portcullis.Net;

namespace Portcullis.Hosting;

/// <summary>
/// The daemon's Kestrel listeners, each with its own pipeline: socketmap (with metrics sniffing), the control
/// socket, and the HTTP listeners tagged with their role (<see cref="HttpRouting"/>: chosen by the listener, never
/// by the Host header); report listeners also take PROXY headers from trusted proxies and TLS.
/// </summary>
public static class Listeners
{
    /// <param name="unixSockets">Filled with the unix socket paths, whose modes are set once bound.</param>
    /// <param name="socketmapEndpoints">Filled with the socketmap endpoints, for their shared connection slots.</param>
    public static void Configure(KestrelServerOptions k, Settings settings, bool activated, bool control,
        List<string> unixSockets, HashSet<string> socketmapEndpoints)
    {
        var config = settings.Config;
        k.AddServerHeader = false;
        static void Socketmap(ListenOptions lo) => lo.UseMetricsSniffing().UseConnectionHandler<SocketmapConnectionHandler>();
        if (activated)
            k.UseSystemd(Socketmap);
        foreach (var listen in activated ? [] : settings.Listen)
        {
            switch (listen)
            {
                case ListenEndpoint.Tcp tcp:
                    socketmapEndpoints.Add(tcp.EndPoint.ToString());
                    k.Listen(tcp.EndPoint, Socketmap);
                    break;
                case ListenEndpoint.Unix unix:
                    socketmapEndpoints.Add(unix.Path);
                    k.ListenUnixSocket(unix.Path, Socketmap);
                    unixSockets.Add(unix.Path);
                    break;
            }
        }
        if (control)
        {
            k.ListenUnixSocket(settings.ControlSocket!, lo => lo.UseConnectionHandler<ControlConnectionHandler>());
            unixSockets.Add(settings.ControlSocket!);
        }
        foreach (var listen in settings.MetricsListen.OfType<ListenEndpoint.Tcp>())
            k.Listen(listen.EndPoint, lo => HttpRouting.Tag(lo, HttpRole.Metrics));
        foreach (var listen in settings.ConsoleListen.OfType<ListenEndpoint.Tcp>())
            k.Listen(listen.EndPoint, lo => HttpRouting.Tag(lo, HttpRole.Console));
        foreach (var listen in settings.ReportListen.OfType<ListenEndpoint.Tcp>())
        {
            k.Listen(listen.EndPoint, lo =>
            {
                HttpRouting.Tag(lo, HttpRole.Reports);
                lo.UseProxyProtocol(settings.TrustedProxies, k.ApplicationServices);
                if (config.Tlsrpt.ReceiveCertificate.Length > 0)
                    lo.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(config.Tlsrpt.ReceiveCertificate, config.Tlsrpt.ReceiveKey));
            });
        }
    }
}
