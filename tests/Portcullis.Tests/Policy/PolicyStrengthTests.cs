using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Tests.Policy;

/// <summary>The one downgrade rule, for answers (refresh) and for the cache entries they come from.</summary>
public sealed class PolicyStrengthTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(Verdict.DaneOnly, Verdict.Dane, true)]
    [InlineData(Verdict.DaneOnly, Verdict.StsEnforce, true)]
    [InlineData(Verdict.DaneOnly, Verdict.Temp, true)]
    [InlineData(Verdict.Dane, Verdict.StsEnforce, false)]   // as strong: both authenticate where they can
    [InlineData(Verdict.StsEnforce, Verdict.Dane, false)]
    [InlineData(Verdict.StsEnforce, Verdict.NoPolicy, true)]
    [InlineData(Verdict.StsEnforce, Verdict.StsFailure, true)]
    [InlineData(Verdict.Temp, Verdict.NoPolicy, true)]      // deferring protected more than sending with no policy
    [InlineData(Verdict.NoPolicy, Verdict.StsFailure, false)]
    [InlineData(Verdict.NoPolicy, Verdict.DaneOnly, false)] // upgrades are no downgrade
    [InlineData(Verdict.Dane, Verdict.Dane, false)]
    public void Answers(Verdict before, Verdict after, bool downgrade) =>
        Assert.Equal(downgrade, PolicyStrength.IsDowngrade(before, after));

    [Theory]
    [InlineData(null, DaneVerdict.None, false)]              // nothing replaced
    [InlineData(DaneVerdict.DaneOnly, DaneVerdict.None, true)]
    [InlineData(DaneVerdict.Dane, DaneVerdict.None, true)]
    [InlineData(DaneVerdict.DaneOnly, DaneVerdict.Dane, true)]  // some MX lost its TLSA records
    [InlineData(DaneVerdict.Dane, DaneVerdict.NullMx, true)]
    [InlineData(DaneVerdict.None, DaneVerdict.None, false)]
    [InlineData(DaneVerdict.None, DaneVerdict.DaneOnly, false)]
    [InlineData(DaneVerdict.Dane, DaneVerdict.DaneOnly, false)]
    public void Dane_entries(DaneVerdict? before, DaneVerdict after, bool downgrade)
    {
        DaneCacheEntry? previous = before is { } b ? new("a.test", b, "", true, Now.AddHours(1)) : null;
        Assert.Equal(downgrade, PolicyStrength.IsDowngrade(previous, new DaneCacheEntry("a.test", after, "", true, Now.AddHours(1))));
    }

    private static StsCacheEntry Sts(string? mode, int policyMinutes = 60) => new()
    {
        Domain = "a.test",
        Policy = mode is null ? null : StsPolicyParser.Parse(System.Text.Encoding.ASCII.GetBytes(
            $"version: STSv1\nmode: {mode}\n{(mode == "none" ? "" : "mx: mx.a.test\n")}max_age: 86400\n")).Policy,
        PolicyExpiresAt = mode is null ? null : Now.AddMinutes(policyMinutes),
    };

    [Theory]
    [InlineData("enforce", "none", 60, true)]        // the domain withdrew its policy (RFC 8461 §8.3)
    [InlineData("enforce", "testing", 60, true)]
    [InlineData("enforce", null, 60, true)]          // no policy left
    [InlineData("enforce", "enforce", -1, true)]     // the new entry's policy already expired
    [InlineData("enforce", "enforce", 60, false)]
    [InlineData("testing", "none", 60, false)]       // testing never protected
    [InlineData("none", "enforce", 60, false)]
    [InlineData(null, "none", 60, false)]
    public void Sts_entries(string? before, string? after, int afterPolicyMinutes, bool downgrade) =>
        Assert.Equal(downgrade, PolicyStrength.IsDowngrade(Sts(before), Sts(after, afterPolicyMinutes), Now));

    [Fact]
    public void No_previous_entry_is_no_downgrade() =>
        Assert.False(PolicyStrength.IsDowngrade(null, Sts("none"), Now));
}
