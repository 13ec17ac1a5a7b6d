using System.Buffers;
using System.Text.Unicode;

namespace Portcullis.Core.Protocol;

/// <summary>Why a socketmap request payload is malformed.</summary>
public enum RequestError { None, NoSpace, EmptyMapName, NotUtf8 }

/// <summary>One socketmap request: <c>NAME SP KEY</c> (socketmap_table(5)).</summary>
public readonly record struct SocketmapRequest(string MapName, string Key)
{
    // Decoded on the stack up to this many characters; longer requests (up to Netstring.MaxRequestLength) rent a buffer.
    private const int StackChars = 512;

    /// <summary>
    /// The one split of a request: map name before the first space (not empty), key after it (may be empty).
    /// Allocation-free; the hot path and <see cref="TryParse"/> both use it.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<char> payload, out ReadOnlySpan<char> mapName, out ReadOnlySpan<char> key, out RequestError error)
    {
        int space = payload.IndexOf(' ');
        mapName = space > 0 ? payload[..space] : default;
        key = space > 0 ? payload[(space + 1)..] : default;
        error = space switch { < 0 => RequestError.NoSpace, 0 => RequestError.EmptyMapName, _ => RequestError.None };
        return error == RequestError.None;
    }

    /// <summary>Decodes (strict UTF-8) and splits a request payload. Returns false with the reason for a malformed request.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out SocketmapRequest request, out RequestError error)
    {
        request = default;
        char[]? rented = payload.Length > StackChars ? ArrayPool<char>.Shared.Rent(payload.Length) : null;
        try
        {
            Span<char> text = rented is null ? stackalloc char[StackChars] : rented;
            if (Utf8.ToUtf16(payload, text, out _, out int n, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                // A request that does not split is reported as such first, as before decoding was shared.
                error = payload.IndexOf((byte)' ') switch { < 0 => RequestError.NoSpace, 0 => RequestError.EmptyMapName, _ => RequestError.NotUtf8 };
                return false;
            }
            if (!TrySplit(text[..n], out var map, out var key, out error))
                return false;
            request = new SocketmapRequest(map.ToString(), key.ToString());
            return true;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The reason as the PERM reply and the logs say it.</summary>
    public static string Describe(RequestError error) => error switch
    {
        RequestError.NoSpace => "no space between map name and key",
        RequestError.EmptyMapName => "empty map name",
        RequestError.NotUtf8 => "request is not valid UTF-8",
        _ => "",
    };
}
