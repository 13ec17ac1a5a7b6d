using Portcullis.Core.MtaSts;
using Portcullis.Core.Rollout;

namespace Portcullis.Tests.Rollout;

/// <summary>Which rollout runs (new, resumed, rolled back) and which requests are refused, as values.</summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly PolicySettings Testing = new(StsMode.Testing, 86400);
    private static readonly long[] Steps = [86400, 604800, 31557600];

    private static string Id(PolicySettings s) => $"{StsModeNames.ToWire(s.Mode)}{s.MaxAge}";

    private static RolloutDecision Decide(RolloutState state, StsMode? to, long? maxAge = null, bool rollback = false) =>
        RolloutPlanner.Decide("example.com", state, new RolloutRequest(to, maxAge, rollback), Steps, Id, Now);

    [Fact]
    public void Testing_to_enforce_takes_the_first_max_age_step_and_starts_at_serve()
    {
        var run = Assert.IsType<RolloutDecision.Run>(Decide(new(Testing, Id(Testing), null), StsMode.Enforce));
        Assert.Equal((new PolicySettings(StsMode.Enforce, 86400), "enforce86400", "testing86400", false), (run.Rollout.To, run.Rollout.ToId, run.Rollout.FromId, run.Resumed));
        Assert.Equal(RolloutStep.Serve, run.Rollout.Next);
    }

    [Fact]
    public void The_same_mode_and_max_age_already_published_is_refused_with_the_next_step()
    {
        var enforce = new PolicySettings(StsMode.Enforce, 86400);
        var refused = Assert.IsType<RolloutDecision.Refused>(Decide(new(enforce, Id(enforce), null), StsMode.Enforce));
        Assert.Equal("example.com already publishes mode enforce, max_age 86400 (id enforce86400): nothing to change; raise max_age with --max-age 604800", refused.Reason);
        Assert.IsType<RolloutDecision.Run>(Decide(new(enforce, Id(enforce), null), StsMode.Enforce, 604800));
        // Served but never published (DNS still has another id): the same target brings DNS in line.
        Assert.IsType<RolloutDecision.Run>(Decide(new(enforce, "other", null), StsMode.Enforce));
    }

    [Fact]
    public void A_rollout_in_progress_resumes_with_the_same_target_and_refuses_another()
    {
        var first = ((RolloutDecision.Run)Decide(new(Testing, Id(Testing), null), StsMode.Enforce)).Rollout
            .With(new(RolloutStep.Serve, Now, true, "served")).With(new(RolloutStep.VerifyHttps, Now, true, "fetched"))
            .With(new(RolloutStep.UpdateDns, Now, false, "refused"));
        var state = new RolloutState(first.To, Id(Testing), first);
        var resumed = Assert.IsType<RolloutDecision.Run>(Decide(state, StsMode.Enforce));
        Assert.True(resumed.Resumed);
        Assert.Equal(RolloutStep.UpdateDns, resumed.Rollout.Next);
        var other = Assert.IsType<RolloutDecision.Refused>(Decide(state, StsMode.None));
        Assert.StartsWith("example.com: a rollout to mode enforce, max_age 86400 (id enforce86400) is in progress since 2026-12-01 00:00Z", other.Reason);
    }

    [Fact]
    public void A_rollback_goes_back_by_the_same_steps_and_skips_dns_the_rollout_never_touched()
    {
        var start = ((RolloutDecision.Run)Decide(new(Testing, Id(Testing), null), StsMode.Enforce)).Rollout;
        var httpsFailed = start.With(new(RolloutStep.Serve, Now, true, "")).With(new(RolloutStep.VerifyHttps, Now, false, "404"));
        var back = Assert.IsType<RolloutDecision.Run>(Decide(new(start.To, Id(Testing), httpsFailed), null, rollback: true)).Rollout;
        Assert.Equal((Testing, "testing86400", true), (back.To, back.ToId, back.Rollback));
        Assert.Equal(RolloutStep.Serve, back.Next);
        Assert.True(back.Done(RolloutStep.UpdateDns) && back.Done(RolloutStep.VerifyDns));

        var dnsTried = httpsFailed.With(new(RolloutStep.VerifyHttps, Now, true, "")).With(new(RolloutStep.UpdateDns, Now, false, "timeout"));
        var back2 = ((RolloutDecision.Run)Decide(new(start.To, Id(Testing), dnsTried), null, rollback: true)).Rollout;
        Assert.False(back2.Done(RolloutStep.UpdateDns)); // it may have gone through: check and restore

        Assert.Equal("example.com: no rollout in progress to roll back",
            Assert.IsType<RolloutDecision.Refused>(Decide(new(Testing, Id(Testing), null), null, rollback: true)).Reason);
    }

    [Theory]
    [InlineData(0L, "--max-age 0: must be from 1 to 31557600")]
    [InlineData(31557601L, "--max-age 31557601: must be from 1 to 31557600")]
    public void A_max_age_out_of_range_is_refused(long maxAge, string reason) =>
        Assert.Equal(reason, Assert.IsType<RolloutDecision.Refused>(Decide(new(Testing, Id(Testing), null), StsMode.Enforce, maxAge)).Reason);
}
