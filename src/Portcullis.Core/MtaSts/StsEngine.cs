using Portcullis.Core.Policy;

namespace Portcullis.Core.MtaSts;

/// <summary>Timing rules of the MTA-STS branch. Defaults follow RFC 8461 and postfix-tlspol's field experience.</summary>
public sealed record StsOptions
{
    /// <summary>Treat <c>mode: testing</c> like enforce (postfix-mta-sts-resolver's strict_testing).</summary>
    public bool EnforceTesting { get; init; }
    /// <summary>How long "no MTA-STS here" is believed without asking DNS again.</summary>
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Minimum wait before a failed fetch for the same id is retried (RFC 8461 §5.1: 5 minutes).</summary>
    public TimeSpan FailureRetry { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Bounds on re-reading the TXT record (its TTL, clamped) to notice a new id.</summary>
    public TimeSpan TxtRecheckMin { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan TxtRecheckMax { get; init; } = TimeSpan.FromHours(1);
    /// <summary>After a DNS error, how soon to ask again.</summary>
    public TimeSpan DnsErrorRetry { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>The result of looking up <c>_mta-sts.DOMAIN</c> TXT.</summary>
public sealed record TxtObservation(StsTxtResult? Result, string? DnsError, TimeSpan Ttl)
{
    public static TxtObservation Error(string detail) => new(null, detail, TimeSpan.Zero);
    public static TxtObservation Of(StsTxtResult result, TimeSpan ttl) => new(result, null, ttl);
}

/// <summary>The result of fetching and parsing the policy file.</summary>
public sealed record FetchOutcome(StsPolicy? Policy, StsFailureType? Failure, string Detail)
{
    public static FetchOutcome Ok(StsPolicy policy, string detail) => new(policy, null, detail);
    public static FetchOutcome Failed(StsFailureType type, string detail) => new(null, type, detail);
}

public abstract record StsStep;
/// <summary>Decided; <see cref="Entry"/> is what to cache (null: nothing to store).</summary>
public sealed record StsDone(PolicyAnswer Answer, StsCacheEntry? Entry) : StsStep;
public sealed record StsNeedTxt : StsStep;
public sealed record StsNeedFetch(string Id, string TxtRecord) : StsStep;

/// <summary>
/// The MTA-STS branch as a pure state machine: cached entry + observation + time → next step.
/// The adapter performs the DNS and HTTP work it asks for; every rule of RFC 8461 §3–§5 about
/// caching, id changes and failures lives here and is tested without I/O.
/// </summary>
public sealed class StsEngine(StsOptions options)
{
    public StsOptions Options => options;

    public StsStep Start(StsCacheEntry? entry, DateTimeOffset now) =>
        entry is not null && now < entry.RecheckAt
            ? new StsDone(AnswerFrom(entry, now), null)
            : new StsNeedTxt();

    /// <param name="ahead">For proactive refresh: a policy expiring within this window is re-fetched now.</param>
    public StsStep OnTxt(string domain, StsCacheEntry? entry, TxtObservation obs, DateTimeOffset now, TimeSpan ahead = default)
    {
        var baseEntry = entry ?? new StsCacheEntry { Domain = domain };
        if (obs.DnsError is not null)
        {
            // RFC 8461 §5: without a usable record, a cached policy still applies; otherwise deliver as if none.
            var e = baseEntry with
            {
                RecheckAt = now + options.DnsErrorRetry,
                Reason = $"TXT lookup failed ({obs.DnsError})",
            };
            return Done(e, now);
        }

        var txt = obs.Result!;
        if (txt.Status != StsTxtStatus.Valid)
        {
            var e = baseEntry with
            {
                TxtRecord = txt.Record,
                TxtId = null,
                RecheckAt = baseEntry.HasValidPolicy(now) ? now + Clamp(obs.Ttl) : now + options.NegativeTtl,
                Reason = txt.Status switch
                {
                    StsTxtStatus.NoRecord => "no MTA-STS TXT record: " + txt.Detail,
                    StsTxtStatus.Multiple => "several v=STSv1 TXT records (RFC 8461 §3.1: treated as none)",
                    _ => "invalid MTA-STS TXT record: " + txt.Detail,
                },
            };
            return Done(e, now);
        }

        string id = txt.Id!;
        var observed = baseEntry with { TxtRecord = txt.Record, TxtId = id };
        if (observed.HasValidPolicy(now + ahead) && observed.PolicyId == id)
        {
            var e = observed with
            {
                RecheckAt = Min(now + Clamp(obs.Ttl), observed.PolicyExpiresAt!.Value),
                Reason = $"cached policy id {id} is current",
            };
            return Done(e, now);
        }
        if (observed.FailedId == id && observed.FailedAt is { } failedAt && now < failedAt + options.FailureRetry)
        {
            var e = observed with
            {
                RecheckAt = failedAt + options.FailureRetry,
                Reason = $"fetch for id {id} failed at {failedAt:u}; not retried before {failedAt + options.FailureRetry:u}",
            };
            return Done(e, now);
        }
        return new StsNeedFetch(id, txt.Record!);
    }

    public StsStep OnFetch(string domain, StsCacheEntry? entry, StsNeedFetch request, FetchOutcome outcome,
        TimeSpan txtTtl, DateTimeOffset now)
    {
        var baseEntry = (entry ?? new StsCacheEntry { Domain = domain }) with
        {
            TxtRecord = request.TxtRecord,
            TxtId = request.Id,
        };
        if (outcome.Policy is { } policy)
        {
            // A freshly fetched policy always replaces the old one, "none" included (RFC 8461 §8.3).
            var expires = now + TimeSpan.FromSeconds(policy.MaxAgeSeconds);
            var e = baseEntry with
            {
                Policy = policy,
                PolicyId = request.Id,
                FetchedAt = now,
                PolicyExpiresAt = expires,
                FailedId = null,
                FailedAt = null,
                FailureType = null,
                FailureDetail = null,
                RecheckAt = Min(now + Clamp(txtTtl), expires),
                Reason = $"fetched policy id {request.Id}: {outcome.Detail}",
            };
            return Done(e, now);
        }
        var failed = baseEntry with
        {
            FailedId = request.Id,
            FailedAt = now,
            FailureType = outcome.Failure,
            FailureDetail = outcome.Detail,
            RecheckAt = now + options.FailureRetry,
            Reason = $"policy fetch for id {request.Id} failed: {outcome.Detail}",
        };
        return Done(failed, now);
    }

    /// <summary>The answer an entry gives at <paramref name="now"/>, with no lookups.</summary>
    public PolicyAnswer AnswerFrom(StsCacheEntry entry, DateTimeOffset now)
    {
        if (entry.HasValidPolicy(now))
        {
            var p = entry.Policy!;
            string age = $"policy id {entry.PolicyId}, mode {StsModeNames.ToWire(p.Mode)}, valid until {entry.PolicyExpiresAt:u}";
            bool enforce = p.Mode == StsMode.Enforce || (p.Mode == StsMode.Testing && options.EnforceTesting);
            if (enforce)
            {
                return new PolicyAnswer(Verdict.StsEnforce, $"MTA-STS {age}" +
                    (p.Mode == StsMode.Testing ? " (testing enforced by configuration)" : ""))
                { Domain = entry.Domain, Policy = p, TxtRecord = entry.TxtRecord };
            }
            return new PolicyAnswer(Verdict.NoPolicy, $"MTA-STS {age}: mode {StsModeNames.ToWire(p.Mode)} is not enforced")
            { Domain = entry.Domain, Policy = p, TxtRecord = entry.TxtRecord };
        }
        if (entry.FailedId is not null && entry.FailedId == entry.TxtId)
        {
            return new PolicyAnswer(Verdict.StsFailure,
                $"{entry.Reason}; no valid cached policy, delivering as without MTA-STS (RFC 8461 §5)")
            { Domain = entry.Domain, Failure = entry.FailureType, TxtRecord = entry.TxtRecord };
        }
        return new PolicyAnswer(Verdict.NoPolicy, entry.Reason) { Domain = entry.Domain, TxtRecord = entry.TxtRecord };
    }

    // Every stored entry carries when it was computed: shared caches keep the newest.
    private StsDone Done(StsCacheEntry entry, DateTimeOffset now)
    {
        var stamped = entry with { UpdatedAt = now };
        return new(AnswerFrom(stamped, now), stamped);
    }

    private TimeSpan Clamp(TimeSpan ttl) =>
        ttl < options.TxtRecheckMin ? options.TxtRecheckMin : ttl > options.TxtRecheckMax ? options.TxtRecheckMax : ttl;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
