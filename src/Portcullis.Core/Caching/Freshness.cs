using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Caching;

/// <summary>
/// When cached entries alone may answer a query, and for how long that answer stays the same. The daemon's
/// hot path, its full path and the cache tools all ask these, so what they show is what Postfix gets.
/// </summary>
public static class Freshness
{
    /// <summary>A fresh DANE verdict decides alone; a fresh "no DANE" needs MTA-STS state not yet due for its TXT recheck.</summary>
    public static bool Answerable(DaneCacheEntry? dane, StsCacheEntry? sts, DateTimeOffset now) =>
        dane is not null && now < dane.ExpiresAt && (DaneDecides(dane) || (sts is not null && now < sts.RecheckAt));

    /// <summary>DANE found TLSA records (or failed): MTA-STS is not consulted (RFC 8461 §2, DANE first).</summary>
    public static bool DaneDecides(DaneCacheEntry dane) => dane.Verdict != DaneVerdict.None;

    /// <summary>
    /// The first moment an answer rendered from these entries may change: the DANE verdict expires, the
    /// MTA-STS TXT recheck falls due, or the cached policy expires.
    /// </summary>
    public static DateTimeOffset AnswerStableUntil(DaneCacheEntry dane, StsCacheEntry? sts, DateTimeOffset now)
    {
        var until = dane.ExpiresAt;
        if (sts is null)
            return until;
        if (sts.RecheckAt < until)
            until = sts.RecheckAt;
        if (sts.PolicyExpiresAt is { } pe && pe > now && pe < until)
            until = pe;
        return until;
    }

    /// <summary>When a recently queried domain's entries should be renewed: null when there is nothing worth keeping.</summary>
    public static DateTimeOffset? RefreshDue(DaneCacheEntry? dane, StsCacheEntry? sts, DateTimeOffset now)
    {
        if (dane is { Verdict: DaneVerdict.DaneOnly or DaneVerdict.Dane })
            return dane.ExpiresAt;
        if (sts is not null && sts.HasValidPolicy(now))
            return dane is null || sts.RecheckAt < dane.ExpiresAt ? sts.RecheckAt : dane.ExpiresAt;
        return null;
    }
}
