using Portcullis.Core.Dns;

namespace Portcullis.Core.Dane;

/// <summary>Which TLSA records Postfix can use for SMTP (RFC 7672 §3.1, RFC 7671 §9).</summary>
public static class TlsaUsability
{
    /// <summary>Null when usable; otherwise why not.</summary>
    public static string? WhyUnusable(TlsaRecord r)
    {
        if (r.Usage is 0 or 1)
            return $"usage {r.Usage} (PKIX-TA/PKIX-EE) is not used for SMTP (RFC 7672 §3.1.3)";
        if (r.Usage is not (2 or 3))
            return $"unknown usage {r.Usage}";
        if (r.Selector is not (0 or 1))
            return $"unknown selector {r.Selector}";
        return r.MatchingType switch
        {
            0 when r.Data.Length == 0 => "matching type 0 with empty data",
            0 => null,
            1 when r.Data.Length != 32 => $"SHA2-256 digest of {r.Data.Length} bytes, not 32 (RFC 7671 §9)",
            2 when r.Data.Length != 64 => $"SHA2-512 digest of {r.Data.Length} bytes, not 64 (RFC 7671 §9)",
            1 or 2 => null,
            _ => $"unknown matching type {r.MatchingType}",
        };
    }
}
