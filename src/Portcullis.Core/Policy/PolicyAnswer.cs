using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Policy;

/// <summary>What Portcullis decided for one domain, before rendering for Postfix.</summary>
public enum Verdict
{
    /// <summary>Every MX host has usable TLSA records (RFC 7672).</summary>
    DaneOnly,
    /// <summary>DNSSEC-signed MX with some TLSA: Postfix does opportunistic DANE.</summary>
    Dane,
    /// <summary>An MTA-STS policy to enforce: <c>secure match=… servername=hostname</c>.</summary>
    StsEnforce,
    /// <summary>No policy applies: Postfix keeps its own default level.</summary>
    NoPolicy,
    /// <summary>An MTA-STS record exists but no valid policy could be obtained and none is cached.</summary>
    StsFailure,
    /// <summary>The answer cannot be known now; Postfix defers rather than downgrade.</summary>
    Temp,
}

/// <summary>RFC 8460 result types a policy plugin may hand to Postfix (TLSRPT_README).</summary>
public enum StsFailureType { FetchError, PolicyInvalid, WebPkiInvalid }

public static class StsFailureTypeNames
{
    public static string ToWire(StsFailureType t) => t switch
    {
        StsFailureType.FetchError => "sts-policy-fetch-error",
        StsFailureType.PolicyInvalid => "sts-policy-invalid",
        _ => "sts-webpki-invalid",
    };
}

/// <param name="Verdict">The decision.</param>
/// <param name="Reason">One line a mail administrator can read: why this verdict.</param>
public sealed record PolicyAnswer(Verdict Verdict, string Reason)
{
    /// <summary>The policy domain (A-label) for TLSRPT attributes.</summary>
    public string? Domain { get; init; }

    /// <summary>The MTA-STS policy behind a <see cref="Verdict.StsEnforce"/> verdict.</summary>
    public StsPolicy? Policy { get; init; }

    /// <summary>Set for <see cref="Verdict.StsFailure"/>.</summary>
    public StsFailureType? Failure { get; init; }

    /// <summary>The <c>_mta-sts</c> TXT record, when one was seen.</summary>
    public string? TxtRecord { get; init; }

    public static PolicyAnswer NoPolicy(string reason) => new(Verdict.NoPolicy, reason);

    public static PolicyAnswer Temp(string reason) => new(Verdict.Temp, reason);
}
