using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Portcullis.Core.Dns;

namespace Portcullis.Net;

/// <summary>
/// Outgoing HTTPS to a host named by someone else's DNS (MTA-STS policy hosts, rua=https: report
/// endpoints): resolved through the configured resolver, never the system one, and refused on
/// non-public addresses unless allowed (SSRF). No redirects, cookies, proxies or pooled connections.
/// </summary>
public static class PublicOnlyConnector
{
    /// <summary>The hardened handler both HTTPS clients start from; callers tighten it further.</summary>
    public static SocketsHttpHandler CreateHandler(IDnsResolver dns, bool allowNonPublic, TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = connectTimeout,
        // A fresh connection per request: requests are rare and pooled connections would outlive DNS changes.
        PooledConnectionLifetime = TimeSpan.Zero,
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        },
        ConnectCallback = (ctx, ct) => ConnectAsync(dns, ctx.DnsEndPoint, allowNonPublic, ct),
    };

    /// <summary>Connects through the configured resolver, refusing non-public addresses unless allowed.</summary>
    public static async ValueTask<Stream> ConnectAsync(IDnsResolver dns, DnsEndPoint target, bool allowNonPublic, CancellationToken ct)
    {
        IReadOnlyList<IPAddress> addresses;
        if (IPAddress.TryParse(target.Host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            var result = await dns.QueryAddressesAsync(target.Host, ct);
            if (!result.HasRecords)
                throw new HttpRequestException($"cannot resolve {target.Host}: {result.Detail}");
            addresses = result.Records;
        }
        if (!allowNonPublic)
        {
            var refused = addresses.Where(a => !AddressScope.IsPublic(a)).ToList();
            addresses = [.. addresses.Where(AddressScope.IsPublic)];
            if (addresses.Count == 0)
            {
                throw new HttpRequestException($"{target.Host} resolves only to non-public addresses ({string.Join(", ", refused)}); " +
                    "refused (mta_sts.allow_private_addresses)");
            }
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, target.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new HttpRequestException($"cannot connect to {target.Host}:{target.Port}: {last?.Message}", last);
    }

    /// <summary>The exception at the bottom of an HttpRequestException chain: the message that says what failed.</summary>
    public static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return ex;
    }
}
