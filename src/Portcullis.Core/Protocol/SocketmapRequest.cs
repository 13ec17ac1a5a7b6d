using System.Text;

namespace Portcullis.Core.Protocol;

/// <summary>One socketmap request: <c>NAME SP KEY</c> (socketmap_table(5)).</summary>
public readonly record struct SocketmapRequest(string MapName, string Key)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Splits a request payload. Returns false with a reason for a malformed request.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out SocketmapRequest request, out string? error)
    {
        request = default;
        int space = payload.IndexOf((byte)' ');
        if (space <= 0)
        {
            error = space == 0 ? "empty map name" : "no space between map name and key";
            return false;
        }
        try
        {
            request = new SocketmapRequest(
                StrictUtf8.GetString(payload[..space]),
                StrictUtf8.GetString(payload[(space + 1)..]));
        }
        catch (DecoderFallbackException)
        {
            error = "request is not valid UTF-8";
            return false;
        }
        error = null;
        return true;
    }
}
