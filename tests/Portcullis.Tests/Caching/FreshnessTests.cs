using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Tests.Caching;

/// <summary>When memory alone may answer, until when that answer holds, and when a domain is due for refresh.</summary>
public sealed class FreshnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static DaneCacheEntry? Dane(string? verdict, int minutes) =>
        verdict is null ? null : new("a.test", Enum.Parse<DaneVerdict>(verdict), "why", true, Now.AddMinutes(minutes));

    // policyMinutes null: no policy cached (e.g. the domain has no MTA-STS record).
    private static StsCacheEntry? Sts(int? recheckMinutes, int? policyMinutes = 60) => recheckMinutes is not { } r ? null : new()
    {
        Domain = "a.test",
        Policy = policyMinutes is null ? null : StsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 86400\n"u8).Policy,
        PolicyExpiresAt = policyMinutes is { } p ? Now.AddMinutes(p) : null,
        RecheckAt = Now.AddMinutes(r),
    };

    [Theory]
    [InlineData(null, 0, null, false)]        // nothing known about DANE: look up
    [InlineData("DaneOnly", 5, null, true)]   // a fresh DANE verdict decides alone
    [InlineData("Dane", 5, null, true)]
    [InlineData("Temp", 5, null, true)]       // (not cached in practice, but it would decide)
    [InlineData("NullMx", 5, null, true)]
    [InlineData("DaneOnly", 0, 5, false)]     // expiring now: look up again
    [InlineData("DaneOnly", -1, 5, false)]
    [InlineData("None", 5, null, false)]      // no DANE, no MTA-STS state: the STS branch must run
    [InlineData("None", 5, 5, true)]          // no DANE beside MTA-STS state not yet due
    [InlineData("None", 5, 0, false)]         // the TXT recheck is due now
    [InlineData("None", -1, 5, false)]        // "no DANE" expired: DANE is looked up again
    public void Answerable_table(string? dane, int daneMinutes, int? recheckMinutes, bool answerable) =>
        Assert.Equal(answerable, Freshness.Answerable(Dane(dane, daneMinutes), Sts(recheckMinutes), Now));

    [Theory]
    [InlineData("DaneOnly", 30, null, null, 30)]  // DANE alone: its expiry
    [InlineData("None", 30, 10, 60, 10)]          // the TXT recheck comes first
    [InlineData("None", 30, 50, 20, 20)]          // the cached policy expires first
    [InlineData("None", 30, 50, -5, 30)]          // an already expired policy sets no bound
    [InlineData("None", 30, 50, null, 30)]        // no policy at all
    public void Answer_stays_until_the_first_change(string dane, int daneMinutes, int? recheckMinutes, int? policyMinutes, int untilMinutes) =>
        Assert.Equal(Now.AddMinutes(untilMinutes), Freshness.AnswerStableUntil(Dane(dane, daneMinutes)!, Sts(recheckMinutes, policyMinutes), Now));

    [Theory]
    [InlineData("DaneOnly", 30, 10, 60, 30)]      // a DANE verdict is renewed at its expiry, MTA-STS plays no part
    [InlineData("Dane", 30, null, null, 30)]
    [InlineData("None", 30, 10, 60, 10)]          // a valid policy: the earlier of TXT recheck and DANE expiry
    [InlineData("None", 5, 10, 60, 5)]
    [InlineData(null, 0, 10, 60, 10)]             // no DANE state: the TXT recheck
    [InlineData("None", 30, 10, null, null)]      // nothing worth keeping: no refresh
    [InlineData("None", 30, 10, -1, null)]        // the policy expired
    [InlineData("NullMx", 30, null, null, null)]
    public void Refresh_is_due_for_what_protects(string? dane, int daneMinutes, int? recheckMinutes, int? policyMinutes, int? dueMinutes) =>
        Assert.Equal(dueMinutes is { } m ? Now.AddMinutes(m) : null, Freshness.RefreshDue(Dane(dane, daneMinutes), Sts(recheckMinutes, policyMinutes), Now));
}
