using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Http;

namespace Portcullis.Resolution;

/// <summary>A decision with the evidence behind it (for <c>query</c>, logs and tests).</summary>
public sealed record Resolution(string Domain, PolicyAnswer Answer, bool FromCache)
{
    public DaneResult? Dane { get; init; }
    public bool DaneFromCache { get; init; }
    public StsBranch? Sts { get; init; }
}

/// <summary>What the MTA-STS branch saw.</summary>
public sealed record StsBranch(PolicyAnswer Answer, bool FromCache)
{
    public StsTxtResult? Txt { get; init; }
    public string? TxtDnsDetail { get; init; }
    public FetchReport? Fetch { get; init; }
    public StsCacheEntry? Entry { get; init; }
    /// <summary>Set when the fetch was skipped because the domain has a null MX.</summary>
    public bool SkippedForNullMx { get; init; }
}
