using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>A request as received by <see cref="PolicyHost"/>.</summary>
public sealed record RecordedRequest(DateTimeOffset At, string? Sni, string Host, string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>
/// HTTPS server on its own loopback IP, port 443 (MTA-STS clients always use 443), with per-host behaviour and
/// certificate. A hand-written HTTP/1.1 responder (not Kestrel) so it can misbehave: lying Content-Length,
/// endless or dripping bodies, stalls. Every response carries "Connection: close".
/// Unknown hosts get a valid certificate and a 404.
/// </summary>
public sealed class PolicyHost : IAsyncDisposable
{
    private readonly TestCa _ca;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, HostBehavior> _behaviors = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string, CertificateKind), SslStreamCertificateContext> _certs = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;

    private PolicyHost(TestCa ca, TcpListener listener)
    {
        _ca = ca;
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public IPAddress Address => Endpoint.Address;

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public static PolicyHost Start(TestCa ca, int port = 443) => new(ca, LoopbackAllocator.Listen(port));

    /// <summary>Sets (or replaces, mid-test) the behaviour for a host name.</summary>
    public PolicyHost Set(string host, HostBehavior behavior)
    {
        _behaviors[host.TrimEnd('.')] = behavior;
        return this;
    }

    public IReadOnlyList<RecordedRequest> RequestsFor(string host) =>
        Requests.Where(r => string.Equals(r.Host, host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)).ToList();

    public bool WasRequested(string host, string? path = null) =>
        RequestsFor(host).Any(r => path is null || r.Target == path);

    /// <summary>An HttpClient that sends every connection to this host and trusts only the test CA (with name checks).</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null)
    {
        var endpoint = Endpoint;
        var policy = _ca.CreateChainPolicy();
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await s.ConnectAsync(endpoint, ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                        return false;
                    using var chain = new X509Chain { ChainPolicy = policy.Clone() };
                    return chain.Build(cert as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
                },
            },
        };
        return new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var t = HandleAsync(socket);
            _connections.TryAdd(t, 0);
            _ = t.ContinueWith(done => _connections.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        var ct = _stop.Token;
        try
        {
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            string? sni = null;
            await ssl.AuthenticateAsServerAsync(async (_, hello, _, token) =>
            {
                sni = string.IsNullOrEmpty(hello.ServerName) ? null : hello.ServerName;
                var b = sni is null ? null : _behaviors.GetValueOrDefault(sni);
                if (b?.TlsStall == true)
                    await Task.Delay(Timeout.Infinite, token);
                return new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = Certificate(sni ?? "unknown.invalid", b?.Certificate ?? CertificateKind.Valid),
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                };
            }, null, ct);

            var request = await ReadRequestAsync(ssl, sni, ct);
            if (request is null)
                return;
            _requests.Enqueue(request);
            var behavior = _behaviors.GetValueOrDefault(request.Host) ?? HostBehavior.Text(404, "no behaviour configured for this host\n");
            await RespondAsync(ssl, behavior, ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // Client went away, handshake failed (e.g. it rejected our bad certificate), or the host is stopping.
        }
    }

    private SslStreamCertificateContext Certificate(string host, CertificateKind kind) =>
        _certs.GetOrAdd((host.ToLowerInvariant(), kind), key =>
        {
            var cert = key.Item2 switch
            {
                CertificateKind.SelfSigned => TestCa.CreateSelfSigned(key.Item1),
                CertificateKind.WrongName => _ca.IssueLeaf("wrong-name.invalid"),
                CertificateKind.Expired => _ca.IssueExpiredLeaf(key.Item1),
                _ => _ca.IssueLeaf(key.Item1),
            };
            return SslStreamCertificateContext.Create(cert, additionalCertificates: null, offline: true);
        });

    private static async Task<RecordedRequest?> ReadRequestAsync(Stream s, string? sni, CancellationToken ct)
    {
        var buf = new byte[32 * 1024];
        var len = 0;
        int end;
        while ((end = IndexOfHeaderEnd(buf.AsSpan(0, len))) < 0)
        {
            if (len == buf.Length)
                return null;
            var n = await s.ReadAsync(buf.AsMemory(len), ct);
            if (n == 0)
                return null;
            len += n;
        }
        var lines = Encoding.Latin1.GetString(buf, 0, end).Split("\r\n");
        var parts = lines[0].Split(' ');
        var headers = lines.Skip(1).Where(l => l.Contains(':', StringComparison.Ordinal))
            .Select(l => KeyValuePair.Create(l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .ToList();
        var host = headers.FirstOrDefault(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)).Value ?? "";
        if (host.LastIndexOf(':') is var colon and > 0)
            host = host[..colon];
        return new RecordedRequest(DateTimeOffset.UtcNow, sni, host.TrimEnd('.').ToLowerInvariant(),
            parts[0], parts.Length > 1 ? parts[1] : "", headers);
    }

    private static int IndexOfHeaderEnd(ReadOnlySpan<byte> data) => data.IndexOf("\r\n\r\n"u8);

    private static async Task RespondAsync(Stream s, HostBehavior b, CancellationToken ct)
    {
        if (b.Kind == ResponseKind.StallBeforeHeaders)
        {
            await Task.Delay(Timeout.Infinite, ct);
            return;
        }
        var head = new StringBuilder($"HTTP/1.{(b.Kind == ResponseKind.Http10NoLength ? 0 : 1)} {b.Status} {ReasonPhrase(b.Status)}\r\n");
        if (b.ContentType is not null)
            head.Append($"Content-Type: {b.ContentType}\r\n");
        if (b.Kind is ResponseKind.Chunked or ResponseKind.Endless)
            head.Append("Transfer-Encoding: chunked\r\n");
        else if (b.Kind != ResponseKind.Http10NoLength)
            head.Append($"Content-Length: {b.DeclaredContentLength ?? b.Body.Length}\r\n");
        foreach (var (k, v) in b.Headers)
            head.Append($"{k}: {v}\r\n");
        head.Append("Connection: close\r\n\r\n");
        await s.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), ct);

        switch (b.Kind)
        {
            case ResponseKind.Fixed:
                await s.WriteAsync(b.Body, ct);
                break;
            case ResponseKind.Http10NoLength:
                await s.WriteAsync(b.Body, ct);
                await s.FlushAsync(ct);
                await Task.Delay(Timeout.Infinite, ct);
                break;
            case ResponseKind.SlowDrip:
                for (var i = 0; i < b.Body.Length; i++)
                {
                    await s.WriteAsync(b.Body.AsMemory(i, 1), ct);
                    await s.FlushAsync(ct);
                    await Task.Delay(b.DripInterval, ct);
                }
                break;
            case ResponseKind.Chunked:
                for (var i = 0; i < b.Body.Length; i += 4096)
                    await WriteChunkAsync(s, b.Body.AsMemory(i, Math.Min(4096, b.Body.Length - i)), ct);
                await s.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
                break;
            case ResponseKind.Endless:
                var filler = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x-pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 80)));
                while (true)
                    await WriteChunkAsync(s, filler, ct);
        }
        await s.FlushAsync(ct);
    }

    private static async Task WriteChunkAsync(Stream s, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await s.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), ct);
        await s.WriteAsync(data, ct);
        await s.WriteAsync("\r\n"u8.ToArray(), ct);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        await Task.WhenAll(_connections.Keys);
        foreach (var c in _certs.Values)
            c.TargetCertificate.Dispose();
        _stop.Dispose();
    }
}
