using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Core.Monitoring;
using Portcullis.Core.Dns;

namespace Portcullis.Checking;

/// <summary>
/// Reads the certificate <c>mta-sts.DOMAIN</c> serves on port 443 (the policy fetch judges it; this only
/// learns its expiry): resolved through the configured resolver with the fetcher's address rules, bounded in time.
/// </summary>
public static class HttpsCertificateProbe
{
    public static async Task<(HostCertificate? Certificate, string? Error)> RunAsync(IDnsResolver dns, string host, bool allowNonPublic,
        TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await using var stream = await Net.PublicOnlyConnector.ConnectAsync(dns, new DnsEndPoint(host, 443), allowNonPublic, cts.Token);
            string address = stream is System.Net.Sockets.NetworkStream ns && ns.Socket.RemoteEndPoint is IPEndPoint ep ? ep.Address.ToString() : "";
            X509Certificate2? leaf = null;
            await using var ssl = new SslStream(stream, false, (_, cert, _, _) =>
            {
                if (cert is not null)
                    leaf = new X509Certificate2(cert);
                return true; // only the expiry is read here; trust is the policy fetch's judgement
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cts.Token);
            using (leaf)
            {
                return leaf is null
                    ? (null, "no certificate served")
                    : (new HostCertificate(host, address, new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero)), null);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"no TLS handshake within {timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException
            or System.Security.Authentication.AuthenticationException)
        {
            return (null, ex.Message);
        }
    }
}
