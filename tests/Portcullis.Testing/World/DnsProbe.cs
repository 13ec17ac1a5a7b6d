using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>Header-level result of a DNS query: enough to assert RCODE, AD and whether there were answers.</summary>
public sealed record DnsProbeResult(int Rcode, bool Authenticated, bool Authoritative, int AnswerCount)
{
    public const int NoError = 0, ServFail = 2, NxDomain = 3;
}

/// <summary>Tiny raw UDP DNS client (DO bit set) so the world itself does not depend on product code or dig.</summary>
public static class DnsProbe
{
    public const ushort A = 1, Ns = 2, Cname = 5, Soa = 6, Mx = 15, Txt = 16, Aaaa = 28, Ds = 43, Dnskey = 48, Tlsa = 52;

    public static async Task<DnsProbeResult> QueryAsync(IPEndPoint server, string name, ushort type, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var id = (ushort)Random.Shared.Next(ushort.MaxValue);
        var query = BuildQuery(id, name, type);
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        udp.Connect(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(5));
        await udp.SendAsync(query, cts.Token);
        while (true)
        {
            var r = await udp.ReceiveAsync(cts.Token);
            var b = r.Buffer;
            if (b.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(b) != id)
                continue;
            return new DnsProbeResult(
                Rcode: b[3] & 0x0F,
                Authenticated: (b[3] & 0x20) != 0,
                Authoritative: (b[2] & 0x04) != 0,
                AnswerCount: BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(6)));
        }
    }

    private static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var ms = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // RD
        header[3] = 0x20; // AD: ask for the AD bit (RFC 6840)
        header[5] = 1;    // QDCOUNT
        header[11] = 1;   // ARCOUNT (OPT)
        ms.Write(header);
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            ms.WriteByte((byte)bytes.Length);
            ms.Write(bytes);
        }
        ms.WriteByte(0);
        ms.Write([(byte)(type >> 8), (byte)type, 0, 1]); // QTYPE, QCLASS IN
        // OPT RR: root name, type 41, UDP size 4096, ext-rcode/version 0, DO flag, rdlen 0.
        ms.Write([0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0]);
        return ms.ToArray();
    }
}
