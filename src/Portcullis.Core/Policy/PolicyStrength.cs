using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Policy;

/// <summary>
/// The one downgrade rule: how much protection an answer gives Postfix, so a change to less is worth a
/// warning. Refresh compares answers with it; the cache compares the entries it replaces.
/// </summary>
public static class PolicyStrength
{
    /// <summary>dane-only (every MX authenticated) over dane/secure (authenticated where it can) over TEMP (deferred) over none.</summary>
    public static int Of(Verdict v) => v switch
    {
        Verdict.DaneOnly => 3,
        Verdict.Dane or Verdict.StsEnforce => 2,
        Verdict.Temp => 1,
        _ => 0,
    };

    public static bool IsDowngrade(Verdict before, Verdict after) => Of(after) < Of(before);

    /// <summary>The answer a cached DANE verdict stands for.</summary>
    public static Verdict Of(DaneVerdict v) => v switch
    {
        DaneVerdict.DaneOnly => Verdict.DaneOnly,
        DaneVerdict.Dane => Verdict.Dane,
        DaneVerdict.Temp => Verdict.Temp,
        _ => Verdict.NoPolicy,
    };

    /// <summary>
    /// The answer a cached MTA-STS entry stands for by the domain's own policy: enforce while valid, else none.
    /// (A configuration enforcing testing policies does not hide that the domain weakened its policy.)
    /// </summary>
    public static Verdict Of(StsCacheEntry e, DateTimeOffset now) =>
        e.HasValidPolicy(now) && e.Policy!.Mode == StsMode.Enforce ? Verdict.StsEnforce : Verdict.NoPolicy;

    public static bool IsDowngrade(DaneCacheEntry? previous, DaneCacheEntry updated) =>
        previous is not null && IsDowngrade(Of(previous.Verdict), Of(updated.Verdict));

    public static bool IsDowngrade(StsCacheEntry? previous, StsCacheEntry updated, DateTimeOffset now) =>
        previous is not null && IsDowngrade(Of(previous, now), Of(updated, now));
}
