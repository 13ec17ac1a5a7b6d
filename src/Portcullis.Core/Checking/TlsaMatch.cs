using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Core.Dns;

namespace Portcullis.Core.Checking;

/// <summary>Whether a TLSA record matches the certificate chain a server actually presented (RFC 6698 §2.1, RFC 7671).</summary>
public static class TlsaMatch
{
    /// <param name="chain">Leaf first, then the rest of the chain as sent.</param>
    public static bool Matches(TlsaRecord r, IReadOnlyList<X509Certificate2> chain)
    {
        if (chain.Count == 0)
            return false;
        IEnumerable<X509Certificate2> candidates = r.Usage switch
        {
            3 => [chain[0]],
            2 => chain.Skip(1),
            _ => [],
        };
        return candidates.Any(c => Association(c, r.Selector, r.MatchingType) is { } data && data.AsSpan().SequenceEqual(r.Data));
    }

    private static byte[]? Association(X509Certificate2 cert, byte selector, byte matchingType)
    {
        byte[] selected = selector switch
        {
            0 => cert.RawData,
            1 => cert.PublicKey.ExportSubjectPublicKeyInfo(),
            _ => [],
        };
        if (selected.Length == 0)
            return null;
        return matchingType switch
        {
            0 => selected,
            1 => SHA256.HashData(selected),
            2 => SHA512.HashData(selected),
            _ => null,
        };
    }
}
