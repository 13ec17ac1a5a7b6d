using System.Net;

namespace Portcullis.Configuration;

/// <summary>The value parsers validation uses (listeners, socket modes, HOST:PORT).</summary>
public static partial class ConfigLoader
{
    /// <summary>A listener: TCP endpoint or unix socket path.</summary>
    public static (IPEndPoint? Tcp, string? UnixPath) ParseListen(string text, string key = "listen")
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text[5..];
            if (!Path.IsPathRooted(path))
                throw new ConfigException($"{key}: '{text}': unix socket path must be absolute");
            return (null, path);
        }
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            text = "127.0.0.1" + text[9..];
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0)
            return (ep, null);
        throw new ConfigException($"{key}: '{text}' is not HOST:PORT (IP address) or unix:/path");
    }

    public static UnixFileMode ParseMode(string octal)
    {
        try
        {
            int mode = Convert.ToInt32(octal, 8);
            if (mode is < 0 or > 0x1FF)
                throw new FormatException();
            return (UnixFileMode)mode;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ConfigException($"socket_permissions: '{octal}' is not an octal mode such as 0660");
        }
    }

    /// <summary>HOST:PORT where HOST is a name or an IP address (IPv6 in brackets).</summary>
    public static bool TryHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            || port is 0 or > 65535)
            return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0 && Uri.CheckHostName(host) != UriHostNameType.Unknown;
    }
}
