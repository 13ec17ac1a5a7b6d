using System.Text;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;

namespace Portcullis.Tests.MtaSts;

/// <summary>RFC 8461 cache rules of the MTA-STS state machine; time is passed in, nothing sleeps.</summary>
public sealed class StsEngineTests
{
    private const string D = "example.test";
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(30);
    private readonly StsEngine _engine = new(new StsOptions());

    private static StsPolicy Policy(string mode = "enforce", long maxAge = 86400) =>
        StsPolicyParser.Parse(Encoding.ASCII.GetBytes($"version: STSv1\nmode: {mode}\nmx: mx.example.test\nmax_age: {maxAge}\n")).Policy!;

    private static TxtObservation Txt(string id) => TxtObservation.Of(StsTxtParser.Parse([[$"v=STSv1; id={id}"]]), Ttl);

    private static TxtObservation NoTxt() => TxtObservation.Of(StsTxtParser.Parse([["v=spf1 -all"]]), Ttl);

    /// <summary>Runs TXT then (if asked) the fetch; returns the final step.</summary>
    private StsDone Resolve(StsCacheEntry? entry, TxtObservation txt, DateTimeOffset now, FetchOutcome? fetch = null)
    {
        var step = _engine.OnTxt(D, entry, txt, now);
        if (step is StsNeedFetch need)
        {
            Assert.NotNull(fetch);
            step = _engine.OnFetch(D, entry, need, fetch, txt.Ttl, now);
        }
        else
        {
            Assert.True(fetch is null, "a fetch was expected but the engine did not ask for one");
        }
        return Assert.IsType<StsDone>(step);
    }

    private StsCacheEntry Cached(string mode = "enforce", long maxAge = 86400) =>
        Resolve(null, Txt("1"), T0, FetchOutcome.Ok(Policy(mode, maxAge), "ok")).Entry!;

    [Fact]
    public void Cold_cache_with_a_record_asks_for_a_fetch_and_caches_until_max_age()
    {
        Assert.IsType<StsNeedTxt>(_engine.Start(null, T0));
        var need = Assert.IsType<StsNeedFetch>(_engine.OnTxt(D, null, Txt("abc"), T0));
        Assert.Equal("abc", need.Id);
        var done = Assert.IsType<StsDone>(_engine.OnFetch(D, null, need, FetchOutcome.Ok(Policy(), "ok"), Ttl, T0));
        Assert.Equal(Verdict.StsEnforce, done.Answer.Verdict);
        Assert.Equal(T0.AddSeconds(86400), done.Entry!.PolicyExpiresAt);
        Assert.Equal(T0 + Ttl, done.Entry.RecheckAt);
    }

    [Fact]
    public void Fresh_entry_answers_without_lookups()
    {
        var e = Cached();
        var step = Assert.IsType<StsDone>(_engine.Start(e, T0.AddMinutes(29)));
        Assert.Equal(Verdict.StsEnforce, step.Answer.Verdict);
        Assert.Null(step.Entry);
        Assert.IsType<StsNeedTxt>(_engine.Start(e, T0.AddMinutes(30)));
    }

    [Fact]
    public void Same_id_after_recheck_needs_no_fetch()
    {
        var done = Resolve(Cached(), Txt("1"), T0.AddHours(2));
        Assert.Equal(Verdict.StsEnforce, done.Answer.Verdict);
    }

    [Fact]
    public void New_id_triggers_a_fetch_and_mode_none_replaces_enforce_at_once()
    {
        var done = Resolve(Cached(), Txt("2"), T0.AddHours(2), FetchOutcome.Ok(Policy("none"), "ok"));
        Assert.Equal(Verdict.NoPolicy, done.Answer.Verdict);
        Assert.Equal("2", done.Entry!.PolicyId);
    }

    [Fact]
    public void Failed_refresh_keeps_the_valid_policy()
    {
        var done = Resolve(Cached(), Txt("2"), T0.AddHours(2), FetchOutcome.Failed(StsFailureType.FetchError, "HTTP 500"));
        Assert.Equal(Verdict.StsEnforce, done.Answer.Verdict);
        Assert.Equal("1", done.Entry!.PolicyId);
        Assert.Equal("2", done.Entry.FailedId);
    }

    [Fact]
    public void Failure_without_cache_is_no_policy_with_its_type_and_is_retried_after_five_minutes()
    {
        var failed = Resolve(null, Txt("1"), T0, FetchOutcome.Failed(StsFailureType.WebPkiInvalid, "self-signed"));
        Assert.Equal(Verdict.StsFailure, failed.Answer.Verdict);
        Assert.Equal(StsFailureType.WebPkiInvalid, failed.Answer.Failure);
        Assert.Equal(T0.AddMinutes(5), failed.Entry!.RecheckAt);
        // Inside five minutes: no new fetch even when DNS is asked again.
        Assert.IsType<StsDone>(_engine.OnTxt(D, failed.Entry, Txt("1"), T0.AddMinutes(4)));
        Assert.IsType<StsNeedFetch>(_engine.OnTxt(D, failed.Entry, Txt("1"), T0.AddMinutes(5)));
        // A different id is fetched at once.
        Assert.IsType<StsNeedFetch>(_engine.OnTxt(D, failed.Entry, Txt("2"), T0.AddMinutes(1)));
    }

    [Fact]
    public void Vanished_record_keeps_the_policy_until_it_expires()
    {
        var e = Cached(maxAge: 86400);
        Assert.Equal(Verdict.StsEnforce, Resolve(e, NoTxt(), T0.AddHours(1)).Answer.Verdict);
        Assert.Equal(Verdict.NoPolicy, Resolve(e, NoTxt(), T0.AddSeconds(86401)).Answer.Verdict);
    }

    [Fact]
    public void Dns_error_uses_the_cache_or_fails_open()
    {
        Assert.Equal(Verdict.StsEnforce, Resolve(Cached(), TxtObservation.Error("SERVFAIL"), T0.AddHours(2)).Answer.Verdict);
        var cold = Resolve(null, TxtObservation.Error("timeout"), T0);
        Assert.Equal(Verdict.NoPolicy, cold.Answer.Verdict);
        Assert.Equal(T0 + new StsOptions().DnsErrorRetry, cold.Entry!.RecheckAt);
    }

    [Fact]
    public void Negative_results_are_cached_for_the_negative_ttl()
    {
        var done = Resolve(null, NoTxt(), T0);
        Assert.Equal(Verdict.NoPolicy, done.Answer.Verdict);
        Assert.Equal(T0 + new StsOptions().NegativeTtl, done.Entry!.RecheckAt);
        var multiple = Resolve(null, TxtObservation.Of(StsTxtParser.Parse([["v=STSv1; id=1"], ["v=STSv1; id=2"]]), Ttl), T0);
        Assert.Equal(Verdict.NoPolicy, multiple.Answer.Verdict);
    }

    [Fact]
    public void Testing_is_not_enforced_unless_configured()
    {
        Assert.Equal(Verdict.NoPolicy, _engine.AnswerFrom(Cached("testing"), T0).Verdict);
        var strict = new StsEngine(new StsOptions { EnforceTesting = true });
        Assert.Equal(Verdict.StsEnforce, strict.AnswerFrom(Cached("testing"), T0).Verdict);
    }

    [Theory]
    [InlineData(1, 60)]        // clamped up to the minimum
    [InlineData(600, 600)]
    [InlineData(86400, 3600)]  // clamped down to the maximum
    public void Txt_ttl_is_clamped_for_rechecks(int ttlSeconds, int expected)
    {
        var txt = TxtObservation.Of(StsTxtParser.Parse([["v=STSv1; id=1"]]), TimeSpan.FromSeconds(ttlSeconds));
        var done = Resolve(null, txt, T0, FetchOutcome.Ok(Policy(), "ok"));
        Assert.Equal(T0.AddSeconds(expected), done.Entry!.RecheckAt);
    }

    [Fact]
    public void Refresh_ahead_refetches_a_policy_about_to_expire()
    {
        var e = Cached(maxAge: 3600);
        Assert.IsType<StsDone>(_engine.OnTxt(D, e, Txt("1"), T0.AddMinutes(50)));
        Assert.IsType<StsNeedFetch>(_engine.OnTxt(D, e, Txt("1"), T0.AddMinutes(56), TimeSpan.FromMinutes(5)));
    }
}
