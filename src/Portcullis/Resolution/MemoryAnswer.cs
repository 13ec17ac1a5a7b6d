using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Resolution;

/// <summary>Entries memory may answer from: a fresh DANE verdict, and the MTA-STS state when DANE does not decide.</summary>
public readonly struct MemoryAnswer(PolicyMemory.Entry entry, DaneCacheEntry dane, StsCacheEntry? sts)
{
    public PolicyMemory.Entry Entry { get; } = entry;
    public DaneCacheEntry Dane { get; } = dane;
    public StsCacheEntry? Sts { get; } = sts;

    /// <summary>The resolution these entries give at <paramref name="now"/>.</summary>
    public Resolution ToResolution(StsEngine engine, DateTimeOffset now)
    {
        var dane = Dane.ToResult(now);
        if (Sts is null)
            return new Resolution(Entry.Domain, PolicyCombiner.Combine(dane, PolicyAnswer.NoPolicy("")), true) { Dane = dane, DaneFromCache = true };
        var sts = engine.AnswerFrom(Sts, now);
        return new Resolution(Entry.Domain, PolicyCombiner.Combine(dane, sts), true)
        { Dane = dane, DaneFromCache = true, Sts = new StsBranch(sts, true) { Entry = Sts } };
    }
}
