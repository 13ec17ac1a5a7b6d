using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Checking;

/// <summary>What an MX host showed on port 25.</summary>
public sealed record ProbeResult(string Host, IPAddress Address, string? Error, bool StartTlsOffered,
    IReadOnlyList<X509Certificate2> Chain, SslPolicyErrors Errors, string? ChainStatus);

/// <summary>
/// Connects to an MX host on port 25 like a sending MTA: greeting, EHLO, STARTTLS, TLS handshake;
/// keeps the certificate chain and the verification result, then says QUIT. Bounded in time, and in memory by <see cref="SmtpReplyReader"/>.
/// </summary>
public static class StartTlsProbe
{
    public static async Task<ProbeResult> RunAsync(string host, IPAddress address, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        ProbeResult Fail(string e, bool offered = false) => new(host, address, e, offered, [], SslPolicyErrors.None, null);
        try
        {
            using var tcp = new TcpClient(address.AddressFamily);
            await tcp.ConnectAsync(address, 25, cts.Token);
            var stream = tcp.GetStream();
            var reader = new SmtpReplyReader(stream);
            async Task<(int Code, IReadOnlyList<string> Lines, string Text)> Reply()
            {
                var (code, lines) = await reader.ReadReplyAsync(cts.Token);
                return (code, lines, string.Join(" / ", lines));
            }
            async Task Send(string command) => await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cts.Token);

            var greeting = await Reply();
            if (greeting.Code != 220)
                return Fail($"greeting {greeting.Text.Trim()}");
            await Send("EHLO portcullis-check.invalid");
            var ehlo = await Reply();
            bool offered = ehlo.Lines.Any(l => l.Length > 4 && l[4..].Trim().Equals("STARTTLS", StringComparison.OrdinalIgnoreCase));
            if (!offered)
            {
                await Send("QUIT");
                return Fail("STARTTLS is not offered in the EHLO response");
            }
            await Send("STARTTLS");
            var go = await Reply();
            if (go.Code != 220)
                return Fail($"STARTTLS refused: {go.Text.Trim()}", true);

            X509Certificate2[] chain = [];
            var errors = SslPolicyErrors.None;
            string? status = null;
            await using var ssl = new SslStream(stream, false, (_, cert, ch, e) =>
            {
                errors = e;
                if (cert is not null)
                    chain = [new X509Certificate2(cert), .. (ch?.ChainElements.Skip(1).Select(x => new X509Certificate2(x.Certificate)) ?? [])];
                status = ch is null ? null : string.Join("; ", ch.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
                return true; // inspect everything; the checker judges
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cts.Token);
            await ssl.WriteAsync("QUIT\r\n"u8.ToArray(), cts.Token);
            return new ProbeResult(host, address, null, true, chain, errors, status);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Fail($"no complete answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return Fail(ex.Message);
        }
    }
}
