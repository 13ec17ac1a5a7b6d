using System.Net;

namespace Portcullis.Net;

/// <summary>
/// Source addresses allowed to send a PROXY protocol header (config <c>trusted_proxies</c>): exact
/// addresses or CIDRs. The header carries no secret, so the source address is the only proof.
/// </summary>
public sealed class TrustedProxies
{
    private readonly IReadOnlyList<IPNetwork> _networks;

    private TrustedProxies(IReadOnlyList<IPNetwork> networks) => _networks = networks;

    public static readonly TrustedProxies None = new([]);

    public bool IsEmpty => _networks.Count == 0;

    /// <summary>Parses the config list; null with a one-line error for an entry that is neither an address nor a CIDR.</summary>
    public static TrustedProxies? Parse(IEnumerable<string> entries, out string? error)
    {
        var list = new List<IPNetwork>();
        error = null;
        foreach (string e in entries)
        {
            string text = e.Trim();
            if (IPAddress.TryParse(text, out var ip) && !text.Contains('/'))
                list.Add(new IPNetwork(Normalize(ip), Normalize(ip).GetAddressBytes().Length * 8));
            // Host bits set (192.0.2.1/24) is a typo that would trust a whole network: refuse it.
            else if (IPNetwork.TryParse(text, out var net) && IPAddress.TryParse(text.Split('/')[0], out var b) && b.Equals(net.BaseAddress))
                list.Add(net);
            else
            {
                error = $"trusted_proxies: '{e}' is not an IP address or CIDR (e.g. 192.0.2.10 or 192.0.2.0/28)";
                return null;
            }
        }
        return new TrustedProxies(list);
    }

    public bool Contains(IPAddress address)
    {
        var a = Normalize(address);
        foreach (var n in _networks)
        {
            if (n.Contains(a))
                return true;
        }
        return false;
    }

    // Dual-stack listeners report IPv4 peers as ::ffff:a.b.c.d.
    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
