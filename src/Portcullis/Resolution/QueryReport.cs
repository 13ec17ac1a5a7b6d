using Portcullis.Dns;

namespace Portcullis.Resolution;

/// <summary>
/// A live resolution with all its evidence and the exact Postfix answers, as data: <c>query</c> renders it as
/// text or JSON, <c>cache show</c> compares its policy id with the cached one, and other views can reuse it.
/// </summary>
public sealed record QueryReport(Resolution Resolution, string Resolver, ResolverHealth.Snapshot SelfTest, string Query, string QueryRpt)
{
    /// <summary>The policy id the <c>_mta-sts</c> TXT record announces now, if it is valid.</summary>
    public string? LivePolicyId => Resolution.Sts?.Txt?.Id;
}
