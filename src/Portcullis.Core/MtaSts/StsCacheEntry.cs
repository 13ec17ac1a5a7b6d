using Portcullis.Core.Policy;

namespace Portcullis.Core.MtaSts;

/// <summary>
/// Everything remembered about one domain's MTA-STS state. Plain data so any cache backend can
/// store it; all timestamps are absolute, so a restart keeps every expiry.
/// </summary>
public sealed record StsCacheEntry
{
    public required string Domain { get; init; }

    /// <summary>Last valid policy; applied until <see cref="PolicyExpiresAt"/> (RFC 8461 §3.3, §5.1).</summary>
    public StsPolicy? Policy { get; init; }
    public string? PolicyId { get; init; }
    public DateTimeOffset? FetchedAt { get; init; }
    public DateTimeOffset? PolicyExpiresAt { get; init; }

    /// <summary>The last <c>_mta-sts</c> TXT record seen, and its id.</summary>
    public string? TxtRecord { get; init; }
    public string? TxtId { get; init; }

    /// <summary>No DNS or HTTP for this domain before this time: answers come from this entry.</summary>
    public DateTimeOffset RecheckAt { get; init; }

    /// <summary>The last failed fetch, so one id is retried at most every few minutes (RFC 8461 §5.1 SHOULD).</summary>
    public string? FailedId { get; init; }
    public DateTimeOffset? FailedAt { get; init; }
    public StsFailureType? FailureType { get; init; }
    public string? FailureDetail { get; init; }

    /// <summary>When this state was computed; a shared cache never replaces a newer entry with an older one.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Why the entry says what it says, for logs and <c>query</c>.</summary>
    public string Reason { get; init; } = "";

    public bool HasValidPolicy(DateTimeOffset now) => Policy is not null && PolicyExpiresAt > now;

    /// <summary>When the entry stops being useful and may be deleted.</summary>
    public DateTimeOffset DiscardAfter
    {
        get
        {
            var t = RecheckAt;
            if (PolicyExpiresAt > t)
                t = PolicyExpiresAt.Value;
            return t;
        }
    }
}
