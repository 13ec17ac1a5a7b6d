namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>libtlsrpt's numeric codes (tlsrpt.h) to the RFC 8460 §4.3 result types, and policy types.</summary>
public static class ResultTypes
{
    private static readonly Dictionary<int, string> Failures = new()
    {
        [201] = "starttls-not-supported",
        [202] = "certificate-host-mismatch",
        [203] = "certificate-not-trusted",
        [204] = "certificate-expired",
        [205] = "validation-failure",
        [301] = "sts-policy-fetch-error",
        [302] = "sts-policy-invalid",
        [303] = "sts-webpki-invalid",
        [304] = "tlsa-invalid",
        [305] = "dnssec-invalid",
        [306] = "dane-required",
    };

    /// <summary>The result type of a failure code; unknown codes (e.g. libtlsrpt's internal 901) map to validation-failure.</summary>
    public static string FromCode(int code) => Failures.GetValueOrDefault(code, "validation-failure");

    public static bool IsKnown(int code) => Failures.ContainsKey(code);

    /// <summary>An RFC 8460 result type as a metric label: one of the fixed set, anything else "other".</summary>
    public static string Label(string resultType) => Failures.ContainsValue(resultType) ? resultType : "other";

    /// <summary>1 tlsa, 2 sts, 9 no-policy-found (libtlsrpt's tlsrpt_policy_type_t).</summary>
    public static string? PolicyType(int code) => code switch
    {
        1 => "tlsa",
        2 => "sts",
        9 => "no-policy-found",
        _ => null,
    };
}
