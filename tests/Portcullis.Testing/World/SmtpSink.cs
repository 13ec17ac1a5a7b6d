using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>One message as the sink received it (Data: the message text, dot-unstuffed, CRLF).</summary>
public sealed record SinkMessage(string Recipient, bool OverTls, string Sender = "", string Data = "");

/// <summary>
/// A minimal receiving MTA on IP:25: EHLO advertises STARTTLS, STARTTLS switches to TLS with the
/// given certificate, and every message is accepted and recorded with whether TLS protected it.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _cert;
    private readonly string _name;
    private readonly bool _offerStartTls;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="offerStartTls">False: a server that never offers STARTTLS (a misconfiguration to detect).</param>
    public SmtpSink(IPAddress address, string name, X509Certificate2 cert, bool offerStartTls = true, int port = 25)
    {
        _name = name;
        _cert = cert;
        _offerStartTls = offerStartTls;
        _listener = new TcpListener(address, port);
        _listener.Start();
        _loop = AcceptAsync();
    }

    public ConcurrentQueue<SinkMessage> Messages { get; } = new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        Stream stream = client.GetStream();
        bool tls = false;
        string? rcpt = null, sender = null;
        try
        {
            var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
            async Task Send(string line)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
            await Send($"220 {_name} ESMTP test sink");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                string verb = line.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await Send($"250-{_name}" + (tls || !_offerStartTls ? "" : "\r\n250-STARTTLS") + "\r\n250 8BITMIME");
                        break;
                    case "STARTTLS" when !tls && _offerStartTls:
                        await Send("220 2.0.0 ready to start TLS");
                        var ssl = new SslStream(stream, false);
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _cert }, _stop.Token);
                        stream = ssl;
                        reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
                        tls = true;
                        break;
                    case "MAIL":
                        sender = line[(line.IndexOf('<') + 1)..line.IndexOf('>')];
                        await Send("250 2.1.0 ok");
                        break;
                    case "RCPT":
                        rcpt = line[(line.IndexOf('<') + 1)..line.IndexOf('>')];
                        await Send("250 2.1.5 ok");
                        break;
                    case "DATA":
                        await Send("354 go ahead");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } body && body != ".")
                            data.Append(body.StartsWith("..", StringComparison.Ordinal) ? body[1..] : body).Append("\r\n");
                        Messages.Enqueue(new SinkMessage(rcpt ?? "?", tls, sender ?? "", data.ToString()));
                        await Send("250 2.0.0 queued");
                        break;
                    case "QUIT":
                        await Send("221 2.0.0 bye");
                        return;
                    default:
                        await Send("250 2.0.0 ok");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The client gave up (e.g. certificate rejected): nothing delivered.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
    }
}
