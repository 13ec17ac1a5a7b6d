using System.Buffers;
using System.Text;

namespace Portcullis.Core.Protocol;

public enum ReplyStatus { Ok, NotFound, Temp, Perm }

/// <summary>
/// A socketmap reply. Construction enforces Postfix's rules: never <c>OK</c> with empty data
/// (Postfix logs "invalid empty policy" and defers) and never more than
/// <see cref="Netstring.MaxReplyLength"/> bytes (answered as TEMP instead).
/// </summary>
public readonly record struct SocketmapReply
{
    public ReplyStatus Status { get; }
    public string Data { get; }

    private SocketmapReply(ReplyStatus status, string data) => (Status, Data) = (status, data);

    public static SocketmapReply NotFound { get; } = new(ReplyStatus.NotFound, "");

    public static SocketmapReply Ok(string data)
    {
        if (string.IsNullOrWhiteSpace(data))
            return Temp("internal error: empty policy");
        var reply = new SocketmapReply(ReplyStatus.Ok, data);
        return reply.EncodedLength > Netstring.MaxReplyLength
            ? Temp($"policy reply exceeds {Netstring.MaxReplyLength} bytes")
            : reply;
    }

    /// <summary>Reasons are single-line, printable ASCII so Postfix can log them verbatim.</summary>
    public static SocketmapReply Temp(string reason) => new(ReplyStatus.Temp, Sanitize(reason));

    public static SocketmapReply Perm(string reason) => new(ReplyStatus.Perm, Sanitize(reason));

    private static string Keyword(ReplyStatus s) => s switch
    {
        ReplyStatus.Ok => "OK",
        ReplyStatus.NotFound => "NOTFOUND",
        ReplyStatus.Temp => "TEMP",
        _ => "PERM",
    };

    /// <summary>Payload text, e.g. <c>OK dane-only</c> or <c>NOTFOUND </c>.</summary>
    public override string ToString() => Keyword(Status) + " " + Data;

    private int EncodedLength => Encoding.UTF8.GetByteCount(ToString());

    public void WriteTo(IBufferWriter<byte> writer)
    {
        string text = ToString();
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int n = Encoding.UTF8.GetBytes(text, buffer);
        Netstring.Write(writer, buffer[..n]);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }

    private static string Sanitize(string reason)
    {
        var sb = new StringBuilder(Math.Min(reason.Length, 200));
        foreach (char c in reason)
        {
            if (sb.Length == 200)
                break;
            sb.Append(c is >= ' ' and <= '~' ? c : ' ');
        }
        return sb.ToString();
    }
}
