using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Core.Caching;

/// <summary>
/// One domain's cached state as the cache tools show it. <see cref="Answer"/> is what the cached
/// entries say whatever their freshness; <see cref="Reply"/> is what Postfix gets now for QUERY.
/// </summary>
public sealed record CacheItem(string Domain, string Answer, string Verdict, string Source, DateTimeOffset? Expires,
    long? Hits, string? PolicyId, string? TxtId, string Reason)
{
    public const string FromCache = "cache", FromOverride = "override", Expired = "expired";

    /// <summary>
    /// Why Postfix gets <see cref="Reply"/>: <c>cache</c> (the entries are fresh enough to answer),
    /// <c>override</c> (configured), or <c>expired</c> (nothing answerable: the next query resolves live).
    /// </summary>
    public string State { get; init; } = FromCache;

    /// <summary>The exact QUERY reply Postfix gets now; null when the next query resolves live.</summary>
    public string? Reply { get; init; }

    /// <summary>What the cached entries say now, whatever their freshness.</summary>
    public static CacheItem From(string domain, DaneCacheEntry? dane, StsCacheEntry? sts, StsEngine engine,
        RenderOptions render, DateTimeOffset now, long? hits)
    {
        var stsAnswer = sts is null ? PolicyAnswer.NoPolicy("no MTA-STS state cached") : engine.AnswerFrom(sts, now);
        var daneResult = dane?.ToResult(now) ?? new DaneResult(DaneVerdict.None, "no DANE state cached", TimeSpan.Zero);
        var answer = PolicyCombiner.Combine(daneResult, stsAnswer);
        bool daneDecides = dane is { Verdict: not DaneVerdict.None };
        string source = daneDecides ? "dane" : sts?.HasValidPolicy(now) == true ? "mta-sts" : "none";
        DateTimeOffset? expires = daneDecides ? dane!.ExpiresAt
            : source == "mta-sts" ? sts!.PolicyExpiresAt
            : Min(dane?.ExpiresAt, sts?.RecheckAt);
        // The daemon answers from cache exactly when these entries are answerable.
        bool fresh = Core.Caching.Freshness.Answerable(dane, sts, now);
        string rendered = AnswerRenderer.Render(answer, false, render).ToString();
        return new CacheItem(domain, rendered, answer.Verdict.ToString(),
            source, expires, hits, sts?.PolicyId, sts?.TxtId, answer.Reason)
        {
            State = fresh ? FromCache : Expired,
            Reply = fresh ? rendered : null,
        };
    }

    /// <summary>Active overrides replace what the cache says (as the socketmap does) and are listed even when nothing is cached.</summary>
    public static IReadOnlyList<CacheItem> WithOverrides(IEnumerable<CacheItem> items, IReadOnlyDictionary<string, StaticOverride> overrides,
        DateTimeOffset now)
    {
        var byDomain = items.ToDictionary(i => i.Domain, StringComparer.Ordinal);
        foreach (var (domain, o) in overrides)
        {
            if (!o.IsActive(now))
                continue;
            string reply = "OK " + o.Policy;
            byDomain[domain] = byDomain.TryGetValue(domain, out var cached)
                ? cached with { State = FromOverride, Reply = reply, Expires = o.Expires, Reason = "configured override (cache not consulted)" }
                : new CacheItem(domain, reply, "Override", "none", o.Expires, null, null, null, "configured override")
                { State = FromOverride, Reply = reply };
        }
        return [.. byDomain.Values.OrderBy(i => i.Domain, StringComparer.Ordinal)];
    }

    /// <summary>Joins both tables by domain.</summary>
    public static IReadOnlyList<CacheItem> Join(IEnumerable<DaneCacheEntry> dane, IEnumerable<StsCacheEntry> sts, StsEngine engine,
        RenderOptions render, DateTimeOffset now, Func<string, long?> hits)
    {
        var d = dane.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        var s = sts.ToDictionary(e => e.Domain, StringComparer.Ordinal);
        return d.Keys.Union(s.Keys).Order(StringComparer.Ordinal)
            .Select(domain => From(domain, d.GetValueOrDefault(domain), s.GetValueOrDefault(domain), engine, render, now, hits(domain)))
            .ToList();
    }

    /// <summary>Postfix hash-table line, or null when there is no policy to pin.</summary>
    public string? ExportLine() => Answer.StartsWith("OK ", StringComparison.Ordinal) ? $"{Domain}\t{Answer[3..]}" : null;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;
}
