using System.Buffers;
using System.Net;
using System.Text;
using Portcullis.Net;

namespace Portcullis.Tests.Net;

/// <summary>The PROXY protocol parser against the examples and rules of the HAProxy specification (proxy-protocol.txt).</summary>
public sealed class ProxyProtocolTests
{
    private const string Max6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    private static readonly byte[] Sig = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static TheoryData<string, ProxyParseStatus, string?, string?, int> V1 => new()
    {
        // §2.1 examples
        { "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n", ProxyParseStatus.Done, "192.168.0.1:56324", "192.168.0.11:443", 47 },
        { $"PROXY TCP6 {Max6} {Max6} 65535 65535\r\n", ProxyParseStatus.Done, $"[{Max6}]:65535", $"[{Max6}]:65535", 104 },
        { "PROXY UNKNOWN\r\n", ProxyParseStatus.Done, null, null, 15 },
        { $"PROXY UNKNOWN {Max6} {Max6} 65535 65535\r\n", ProxyParseStatus.Done, null, null, 107 },
        { "PROXY TCP6 2001:db8::1 2001:db8::2 1 0\r\n", ProxyParseStatus.Done, "[2001:db8::1]:1", "[2001:db8::2]:0", 40 },
        // incomplete
        { "", ProxyParseStatus.NeedMoreData, null, null, 0 },
        { "PROX", ProxyParseStatus.NeedMoreData, null, null, 0 },
        { "PROXY TCP4 192.168.0.1 192.168", ProxyParseStatus.NeedMoreData, null, null, 0 },
        // malformed
        { "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 ::1 ::1 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 127.1 127.0.0.1 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 1.2.3.4 1.2.3.4 0443 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROXY TCP4 " + new string('1', 100), ProxyParseStatus.Invalid, null, null, 0 }, // no CRLF within 107 bytes
        { "GET / HTTP/1.1\r\n", ProxyParseStatus.Invalid, null, null, 0 },
        { "PROPFIND / HTTP/1.1\r\n", ProxyParseStatus.Invalid, null, null, 0 },
    };

    [Theory]
    [MemberData(nameof(V1))]
    public void Version_1(string text, ProxyParseStatus expected, string? source, string? destination, int consumed)
    {
        var status = ProxyProtocol.Parse(Encoding.ASCII.GetBytes(text), out var header, out int n);
        Assert.Equal(expected, status);
        Assert.Equal(source, header.Source?.ToString());
        Assert.Equal(destination, header.Destination?.ToString());
        Assert.Equal(consumed, n);
    }

    private static byte[] V2(byte verCmd, byte family, byte[] body, int? length = null, byte[]? after = null) =>
        [.. Sig, verCmd, family, (byte)((length ?? body.Length) >> 8), (byte)(length ?? body.Length), .. body, .. after ?? []];

    private static readonly byte[] Tcp4 = [192, 168, 0, 1, 192, 168, 0, 11, 0xDC, 0x04, 0x01, 0xBB]; // 56324 → 443
    private static readonly byte[] Tcp6 = [.. IPAddress.Parse("2001:db8::1").GetAddressBytes(), .. IPAddress.Parse("2001:db8::2").GetAddressBytes(), 0x30, 0x39, 0x00, 0x50];
    private static readonly byte[] Tlv = [0x04, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]; // PP2_TYPE_NOOP with 4 bytes

    public static TheoryData<string, byte[], ProxyParseStatus, string?, int> V2Cases => new()
    {
        { "PROXY TCP4", V2(0x21, 0x11, Tcp4, after: "GET"u8.ToArray()), ProxyParseStatus.Done, "192.168.0.1:56324", 28 },
        { "PROXY TCP6", V2(0x21, 0x21, Tcp6), ProxyParseStatus.Done, "[2001:db8::1]:12345", 52 },
        { "PROXY TCP4 with a TLV", V2(0x21, 0x11, [.. Tcp4, .. Tlv]), ProxyParseStatus.Done, "192.168.0.1:56324", 35 },
        { "LOCAL (health check)", V2(0x20, 0x00, []), ProxyParseStatus.Done, null, 16 },
        { "LOCAL with addresses", V2(0x20, 0x11, Tcp4), ProxyParseStatus.Done, null, 28 },
        { "PROXY UNSPEC", V2(0x21, 0x00, []), ProxyParseStatus.Done, null, 16 },
        { "partial signature", Sig[..7], ProxyParseStatus.NeedMoreData, null, 0 },
        { "fixed part only", V2(0x21, 0x11, Tcp4)[..16], ProxyParseStatus.NeedMoreData, null, 0 },
        { "addresses cut short", V2(0x21, 0x11, Tcp4)[..20], ProxyParseStatus.NeedMoreData, null, 0 },
        { "version 1 in binary", V2(0x11, 0x11, Tcp4), ProxyParseStatus.Invalid, null, 0 },
        { "unknown command", V2(0x22, 0x11, Tcp4), ProxyParseStatus.Invalid, null, 0 },
        { "UDP over a stream", V2(0x21, 0x12, Tcp4), ProxyParseStatus.Invalid, null, 0 },
        { "unknown family", V2(0x21, 0x41, Tcp4), ProxyParseStatus.Invalid, null, 0 },
        { "TCP4 length below 12", V2(0x21, 0x11, Tcp4[..8]), ProxyParseStatus.Invalid, null, 0 },
        { "TCP6 length below 36", V2(0x21, 0x21, Tcp4), ProxyParseStatus.Invalid, null, 0 },
        { "length over the limit", V2(0x21, 0x11, Tcp4, length: ProxyProtocol.MaxV2Bytes), ProxyParseStatus.Invalid, null, 0 },
        { "TLS ClientHello", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], ProxyParseStatus.Invalid, null, 0 },
    };

    [Theory]
    [MemberData(nameof(V2Cases))]
    public void Version_2(string name, byte[] data, ProxyParseStatus expected, string? source, int consumed)
    {
        var status = ProxyProtocol.Parse(data, out var header, out int n);
        Assert.True(expected == status, $"{name}: {status}");
        Assert.Equal(source, header.Source?.ToString());
        Assert.Equal(consumed, n);
    }

    [Fact]
    public void Version_2_destination_and_a_header_split_over_segments()
    {
        byte[] all = V2(0x21, 0x11, Tcp4, after: [0x16, 0x03]);
        var first = new Segment(all[..5]);
        var last = first.Append(all[5..]);
        var seq = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.Equal(ProxyParseStatus.Done, ProxyProtocol.Parse(seq, out var header, out int n));
        Assert.Equal("192.168.0.11:443", header.Destination!.ToString());
        Assert.Equal(28, n);
    }

    [Theory]
    [InlineData("", ProxyParseStatus.NeedMoreData)]
    [InlineData("P", ProxyParseStatus.NeedMoreData)]
    [InlineData("PROXY ", ProxyParseStatus.Done)]
    [InlineData("PROXY TCP4 garbage", ProxyParseStatus.Done)]
    [InlineData("POST /", ProxyParseStatus.Invalid)]
    [InlineData("PRI * HTTP/2.0", ProxyParseStatus.Invalid)]
    [InlineData("\r\n\r\n\0\r\nQUIT\n", ProxyParseStatus.Done)]
    [InlineData("\r\n\r\n\0", ProxyParseStatus.NeedMoreData)]
    [InlineData("\r\nGET", ProxyParseStatus.Invalid)]
    public void Detect_tells_a_header_from_tls_and_http(string start, ProxyParseStatus expected) =>
        Assert.Equal(expected, ProxyProtocol.Detect(Encoding.ASCII.GetBytes(start)));

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data) => Memory = data;

        public Segment Append(byte[] data)
        {
            var next = new Segment(data) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
