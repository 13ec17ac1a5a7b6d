using System.Text;

namespace Portcullis.Testing.World;

public enum CertificateKind
{
    /// <summary>Issued by the test CA for the SNI name.</summary>
    Valid,
    SelfSigned,
    /// <summary>Issued by the test CA, but for wrong-name.invalid.</summary>
    WrongName,
    /// <summary>Issued by the test CA for the SNI name, expired 30 days ago.</summary>
    Expired,
}

public enum ResponseKind
{
    /// <summary>Content-Length (possibly lying via DeclaredContentLength) then the body.</summary>
    Fixed,
    /// <summary>Transfer-Encoding: chunked, no Content-Length.</summary>
    Chunked,
    /// <summary>Chunked body that never ends (until the client disconnects or the host stops).</summary>
    Endless,
    /// <summary>Headers with Content-Length at once, then one body byte per DripInterval.</summary>
    SlowDrip,
    /// <summary>Reads and records the request, then never answers.</summary>
    StallBeforeHeaders,
    /// <summary>An HTTP/1.0 response with neither Content-Length nor chunking: the body ends only when
    /// the connection closes, which this host never does (it sends the body, then holds the connection).</summary>
    Http10NoLength,
}

/// <summary>What <see cref="PolicyHost"/> does for one host name (matched by SNI for TLS, by Host header for HTTP).</summary>
public sealed record HostBehavior
{
    public ResponseKind Kind { get; init; } = ResponseKind.Fixed;
    public int Status { get; init; } = 200;
    /// <summary>Null omits the header.</summary>
    public string? ContentType { get; init; } = "text/plain";
    public byte[] Body { get; init; } = [];
    /// <summary>Extra response headers (ETag, Cache-Control, Location...).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    /// <summary>For <see cref="ResponseKind.Fixed"/>: Content-Length to send instead of the real body length.</summary>
    public long? DeclaredContentLength { get; init; }
    public TimeSpan DripInterval { get; init; } = TimeSpan.FromSeconds(1);
    public CertificateKind Certificate { get; init; } = CertificateKind.Valid;
    /// <summary>Accept TCP but never complete the TLS handshake.</summary>
    public bool TlsStall { get; init; }

    /// <summary>An RFC 8461 policy text (CRLF line endings).</summary>
    public static string PolicyText(string mode = "enforce", long maxAge = 86400, params string[] mx) =>
        $"version: STSv1\r\nmode: {mode}\r\n" + string.Concat(mx.Select(m => $"mx: {m}\r\n")) + $"max_age: {maxAge}\r\n";

    /// <summary>200 text/plain with the given policy text.</summary>
    public static HostBehavior Policy(string body) => new() { Body = Encoding.UTF8.GetBytes(body) };

    public static HostBehavior Text(int status, string body, string? contentType = "text/plain") =>
        new() { Status = status, Body = Encoding.UTF8.GetBytes(body), ContentType = contentType };

    public static HostBehavior NotFound() => Text(404, "not found\n");

    public static HostBehavior Html(string body) => Text(200, body, "text/html; charset=utf-8");

    public static HostBehavior Redirect(string location, int status = 301) =>
        Text(status, "moved\n") with { Headers = new Dictionary<string, string> { ["Location"] = location } };

    /// <summary>200 text/plain of exactly <paramref name="size"/> bytes: the policy text padded with "x-pad: aaa" extension lines.</summary>
    public static HostBehavior Sized(int size, string? policy = null) => new() { Body = Pad(policy ?? PolicyText(mx: "mx.example"), size) };

    /// <summary>Chunked 200 text/plain of exactly <paramref name="size"/> bytes (padded policy), no Content-Length.</summary>
    public static HostBehavior Chunked(int size, string? policy = null) => Sized(size, policy) with { Kind = ResponseKind.Chunked };

    /// <summary>Content-Length says <paramref name="declaredLength"/> but the whole (longer) body is sent.</summary>
    public static HostBehavior LyingLength(string body, long declaredLength) => Policy(body) with { DeclaredContentLength = declaredLength };

    public static HostBehavior Endless() => new() { Kind = ResponseKind.Endless };

    public static HostBehavior SlowDrip(string body, TimeSpan? interval = null) =>
        Policy(body) with { Kind = ResponseKind.SlowDrip, DripInterval = interval ?? TimeSpan.FromSeconds(1) };

    public static HostBehavior StallBeforeHeaders() => new() { Kind = ResponseKind.StallBeforeHeaders };

    public static HostBehavior StallTls() => new() { TlsStall = true };

    public static HostBehavior Http10NoLength(string body) => Policy(body) with { Kind = ResponseKind.Http10NoLength };

    public HostBehavior WithCertificate(CertificateKind kind) => this with { Certificate = kind };

    public HostBehavior WithHeader(string name, string value) =>
        this with { Headers = new Dictionary<string, string>(Headers) { [name] = value } };

    private static byte[] Pad(string prefix, int size)
    {
        var sb = new StringBuilder(prefix);
        if (Encoding.UTF8.GetByteCount(prefix) > size)
            throw new ArgumentException("Policy text is longer than the requested size.");
        const string key = "x-pad: ";
        while (size - sb.Length >= key.Length + 101)
            sb.Append(key).Append('a', 100).Append('\n');
        var rest = size - sb.Length;
        if (rest > key.Length)
            sb.Append(key).Append('a', rest - key.Length - 1).Append('\n');
        else
            sb.Append('\n', rest);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
