using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Portcullis.Net;

public enum ProxyParseStatus { Done, NeedMoreData, Invalid }

/// <summary>What a PROXY header claims; null endpoints mean "use the connection's own" (LOCAL, UNKNOWN, UNSPEC, unix).</summary>
public readonly record struct ProxyHeader(IPEndPoint? Source, IPEndPoint? Destination);

/// <summary>
/// Parser of the HAProxy PROXY protocol header, versions 1 (text) and 2 (binary), over the first
/// bytes of a connection. Pure: no I/O; the caller keeps reading while it says NeedMoreData.
/// </summary>
public static class ProxyProtocol
{
    /// <summary>v1 header limit including CRLF (spec §2.1: 107 bytes for the worst case).</summary>
    public const int MaxV1Bytes = 107;
    /// <summary>v2 header limit (16-byte fixed part + addresses + TLVs); the spec recommends accepting 536 or more.</summary>
    public const int MaxV2Bytes = 4096;
    public const int V2FixedBytes = 16;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>Whether the bytes start (or may yet start) a PROXY header: Done = yes, Invalid = no.</summary>
    public static ProxyParseStatus Detect(ReadOnlySpan<byte> data)
    {
        var v1 = StartsWithOrPrefix(data, V1Prefix);
        return v1 != ProxyParseStatus.Invalid ? v1 : StartsWithOrPrefix(data, V2Signature);
    }

    public static ProxyParseStatus Parse(ReadOnlySequence<byte> data, out ProxyHeader header, out int consumed)
    {
        int n = (int)Math.Min(data.Length, MaxV2Bytes);
        Span<byte> head = n <= 512 ? stackalloc byte[n] : new byte[n];
        data.Slice(0, n).CopyTo(head);
        return Parse(head, out header, out consumed);
    }

    public static ProxyParseStatus Parse(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        if (StartsWithOrPrefix(data, V1Prefix) == ProxyParseStatus.Done)
            return ParseV1(data, out header, out consumed);
        if (StartsWithOrPrefix(data, V2Signature) == ProxyParseStatus.Done)
            return ParseV2(data, out header, out consumed);
        return Detect(data); // NeedMoreData while still a prefix of either, else Invalid

    }

    private static ProxyParseStatus StartsWithOrPrefix(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix)
    {
        int n = Math.Min(data.Length, prefix.Length);
        if (!data[..n].SequenceEqual(prefix[..n]))
            return ProxyParseStatus.Invalid;
        return n == prefix.Length ? ProxyParseStatus.Done : ProxyParseStatus.NeedMoreData;
    }

    private static ProxyParseStatus ParseV1(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        int lf = data[..Math.Min(data.Length, MaxV1Bytes)].IndexOf((byte)'\n');
        if (lf < 0)
            return data.Length >= MaxV1Bytes ? ProxyParseStatus.Invalid : ProxyParseStatus.NeedMoreData;
        if (lf == 0 || data[lf - 1] != '\r')
            return ProxyParseStatus.Invalid;
        var line = data[V1Prefix.Length..(lf - 1)];
        foreach (byte b in line)
        {
            if (b is < 0x20 or > 0x7E)
                return ProxyParseStatus.Invalid;
        }
        string[] f = Encoding.ASCII.GetString(line).Split(' ');
        consumed = lf + 1;
        if (f[0] == "UNKNOWN")
            return ProxyParseStatus.Done; // the rest of the line is to be ignored (spec §2.1)
        var family = f[0] switch { "TCP4" => System.Net.Sockets.AddressFamily.InterNetwork, "TCP6" => System.Net.Sockets.AddressFamily.InterNetworkV6, _ => (System.Net.Sockets.AddressFamily?)null };
        if (family is null || f.Length != 5 || !V1Address(f[1], family.Value, out var src) || !V1Address(f[2], family.Value, out var dst)
            || !V1Port(f[3], out int sport) || !V1Port(f[4], out int dport))
        {
            consumed = 0;
            return ProxyParseStatus.Invalid;
        }
        header = new ProxyHeader(new IPEndPoint(src, sport), new IPEndPoint(dst, dport));
        return ProxyParseStatus.Done;
    }

    private static bool V1Address(string text, System.Net.Sockets.AddressFamily family, out IPAddress address)
    {
        if (!IPAddress.TryParse(text, out address!) || address.AddressFamily != family || text.Contains('%'))
            return false;
        // IPv4 must be plain dotted quad: IPAddress.TryParse also takes "127.1" and "0x7f.1".
        return family != System.Net.Sockets.AddressFamily.InterNetwork || address.ToString() == text;
    }

    private static bool V1Port(string text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    private static ProxyParseStatus ParseV2(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        if (data.Length < V2FixedBytes)
            return ProxyParseStatus.NeedMoreData;
        byte verCmd = data[12], fam = data[13];
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[14..16]);
        if (verCmd >> 4 != 2 || (verCmd & 0x0F) > 1 || V2FixedBytes + length > MaxV2Bytes)
            return ProxyParseStatus.Invalid;
        if (data.Length < V2FixedBytes + length)
            return ProxyParseStatus.NeedMoreData;
        var body = data.Slice(V2FixedBytes, length);
        bool local = (verCmd & 0x0F) == 0;
        int needed;
        switch (fam)
        {
            case 0x11: needed = 12; break; // TCP over IPv4
            case 0x21: needed = 36; break; // TCP over IPv6
            case 0x00: needed = 0; break;  // UNSPEC
            case 0x31: needed = 216; break; // unix stream: addresses are paths, keep the connection's
            default:
                // UDP (0x12, 0x22, 0x32) over a stream listener, or unknown families.
                if (!local)
                    return ProxyParseStatus.Invalid;
                needed = 0;
                break;
        }
        if (length < needed && !local)
            return ProxyParseStatus.Invalid;
        consumed = V2FixedBytes + length;
        if (local || fam is 0x00 or 0x31)
            return ProxyParseStatus.Done; // LOCAL (health checks): the connection's own addresses
        int a = fam == 0x11 ? 4 : 16;
        var src = new IPAddress(body[..a]);
        var dst = new IPAddress(body[a..(2 * a)]);
        int sport = BinaryPrimitives.ReadUInt16BigEndian(body[(2 * a)..]);
        int dport = BinaryPrimitives.ReadUInt16BigEndian(body[(2 * a + 2)..]);
        header = new ProxyHeader(new IPEndPoint(src, sport), new IPEndPoint(dst, dport));
        return ProxyParseStatus.Done;
    }
}
