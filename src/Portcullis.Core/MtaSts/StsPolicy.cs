namespace Portcullis.Core.MtaSts;

public enum StsMode { Enforce, Testing, None }

/// <summary>
/// A syntactically valid RFC 8461 §3.2 policy. MxPatterns are lowercased, in file order and not
/// de-duplicated. Lines are all accepted lines rendered "key: value" (for TLSRPT policy-string).
/// </summary>
public sealed record StsPolicy(StsMode Mode, long MaxAgeSeconds, IReadOnlyList<string> MxPatterns, IReadOnlyList<string> Lines);

/// <summary>Either a Policy or an Error naming the first problem found.</summary>
public sealed record StsPolicyParseResult(StsPolicy? Policy, string? Error)
{
    public bool IsValid => Policy is not null;
}

public static class StsModeNames
{
    public static string ToWire(StsMode m) => m switch
    {
        StsMode.Enforce => "enforce",
        StsMode.Testing => "testing",
        StsMode.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, null),
    };
}
