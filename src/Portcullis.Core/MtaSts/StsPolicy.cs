namespace Portcullis.Core.MtaSts;

public enum StsMode { Enforce, Testing, None }

/// <summary>
/// A syntactically valid RFC 8461 §3.2 policy. MxPatterns are lowercased, in file order and not
/// de-duplicated. Lines are all accepted lines rendered "key: value" (for TLSRPT policy-string).
/// </summary>
public sealed record StsPolicy(StsMode Mode, long MaxAgeSeconds, IReadOnlyList<string> MxPatterns, IReadOnlyList<string> Lines);

/// <summary>Why a policy body is invalid (RFC 8461 §3.2): a code for programs and tests beside the text.</summary>
public enum PolicyError
{
    None, TooLarge, ByteOrderMark, NotUtf8, Empty, BlankLine, NoColon, SpaceBeforeColon, InvalidKey, EmptyValue,
    ControlCharacter, InvalidVersion, InvalidMode, InvalidMaxAge, InvalidMx, MissingField, NoMx,
}

/// <summary>Either a Policy or an Error naming the first problem found (and its <see cref="Code"/>).</summary>
public sealed record StsPolicyParseResult(StsPolicy? Policy, string? Error)
{
    public PolicyError Code { get; init; }

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
