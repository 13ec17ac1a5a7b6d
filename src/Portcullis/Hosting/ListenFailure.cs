using System.Net.Sockets;
using System.Text.RegularExpressions;
using Portcullis.Configuration;

namespace Portcullis.Hosting;

/// <summary>Kestrel's "Failed to bind to address …" as the one line an administrator needs.</summary>
public static partial class ListenFailure
{
    /// <summary>Binds and releases each endpoint before Kestrel does: a port in use is reported here as one line,
    /// before the host has started anything (Kestrel's own failure also logs a stack trace).</summary>
    public static void Probe(IEnumerable<System.Net.IPEndPoint> endpoints)
    {
        foreach (var ep in endpoints)
        {
            using var socket = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(ep);
            }
            catch (SocketException ex)
            {
                throw Describe(ep.ToString(), ex.SocketErrorCode, ex.Message);
            }
        }
    }

    /// <summary>Kestrel's bind failure (a port taken between the probe and the bind).</summary>
    /// <returns>Null when <paramref name="ex"/> is not a bind failure.</returns>
    public static StartupException? From(IOException ex)
    {
        var m = BindMessage().Match(ex.Message);
        if (!m.Success)
            return null;
        var socketError = ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
            ? SocketError.AddressAlreadyInUse
            : (ex.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException)?.SocketErrorCode;
        return Describe(m.Groups["address"].Value, socketError, ex.InnerException?.Message ?? m.Groups["why"].Value);
    }

    private static StartupException Describe(string address, SocketError? error, string message) => error switch
    {
        SocketError.AddressAlreadyInUse => new($"cannot listen on {address}: address already in use", ExitCodes.Unavailable),
        SocketError.AccessDenied => new($"cannot listen on {address}: permission denied", ExitCodes.NoPermission),
        SocketError.AddressNotAvailable => new($"cannot listen on {address}: no such local address", ExitCodes.CantCreate),
        _ => new($"cannot listen on {address}: {message.TrimEnd('.')}", ExitCodes.CantCreate),
    };

    // "Failed to bind to address http://127.0.0.1:8642: address already in use." (also https://, http://unix:/path)
    [GeneratedRegex(@"^Failed to bind to address (?:https?://)?(?<address>\S+?): (?<why>.*)$", RegexOptions.Singleline)]
    private static partial Regex BindMessage();
}
