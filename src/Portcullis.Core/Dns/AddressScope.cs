using System.Net;
using System.Net.Sockets;

namespace Portcullis.Core.Dns;

/// <summary>
/// Whether an address is on the public internet. A policy host that resolves to loopback, private,
/// link-local or otherwise special addresses would let anyone who controls a domain's DNS make the
/// mail server fetch from its own network (SSRF), so such fetches are refused by default.
/// </summary>
public static class AddressScope
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] is 0 or 10 or 127 or >= 224                 // this network, private, loopback, multicast/reserved
                || (b[0] == 100 && b[1] is >= 64 and <= 127)          // shared address space (CGNAT)
                || (b[0] == 169 && b[1] == 254)                        // link-local
                || (b[0] == 172 && b[1] is >= 16 and <= 31)            // private
                || (b[0] == 192 && b[1] == 168)                        // private
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)        // IETF protocol assignments, TEST-NET-1
                || (b[0] == 198 && b[1] is 18 or 19)                   // benchmarking
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)          // TEST-NET-2
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));         // TEST-NET-3
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback) || address.Equals(IPAddress.IPv6Any)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
                return false;
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8); // documentation 2001:db8::/32
        }
        return false;
    }
}
