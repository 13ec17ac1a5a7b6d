using System.Net;

namespace Portcullis.Dns;

/// <summary>Finds the system resolver and parses <c>HOST[:PORT]</c> resolver addresses.</summary>
public static class ResolvConf
{
    public static IPEndPoint FirstNameserver(string path = "/etc/resolv.conf")
    {
        if (File.Exists(path))
        {
            foreach (string raw in File.ReadLines(path))
            {
                var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1].Split('%')[0], out var ip))
                    return new IPEndPoint(ip, 53);
            }
        }
        return new IPEndPoint(IPAddress.Loopback, 53);
    }

    /// <summary>Parses <c>1.2.3.4</c>, <c>1.2.3.4:5353</c>, <c>::1</c> or <c>[::1]:5353</c>.</summary>
    public static bool TryParseEndpoint(string text, int defaultPort, out IPEndPoint endpoint)
    {
        endpoint = null!;
        if (IPAddress.TryParse(text, out var bare))
        {
            endpoint = new IPEndPoint(bare, defaultPort);
            return true;
        }
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0)
        {
            endpoint = ep;
            return true;
        }
        return false;
    }
}
