using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Cache;

/// <summary>One domain's cached state as the cache tools show it.</summary>
public sealed record CacheItem(string Domain, string Answer, string Verdict, string Source, DateTimeOffset? Expires,
    long? Hits, string? PolicyId, string? TxtId, string Reason)
{
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
        return new CacheItem(domain, AnswerRenderer.Render(answer, false, render).ToString(), answer.Verdict.ToString(),
            source, expires, hits, sts?.PolicyId, sts?.TxtId, answer.Reason);
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
