using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Policy;

/// <summary>What a socketmap name means: TLSRPT attributes or not, and per-map strictness.</summary>
public sealed record MapOptions(string Name, bool TlsRpt, bool EnforceTesting)
{
    /// <summary>A "testing" MTA-STS policy becomes enforced on maps that ask for it.</summary>
    public PolicyAnswer Apply(PolicyAnswer answer) =>
        EnforceTesting && answer.Verdict == Verdict.NoPolicy && answer.Policy?.Mode == StsMode.Testing
            ? answer with { Verdict = Verdict.StsEnforce, Reason = answer.Reason + " (testing enforced on map " + Name + ")" }
            : answer;
}

/// <summary>A static answer configured by the administrator, with an optional end date.</summary>
public sealed record StaticOverride(string Policy, DateTimeOffset? Expires)
{
    public bool IsActive(DateTimeOffset now) => Expires is null || now < Expires;
}
