using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Rollout;

/// <summary>The part of a published policy a rollout changes (the mx patterns come from the configuration).</summary>
public sealed record PolicySettings(StsMode Mode, long MaxAge)
{
    public override string ToString() => $"mode {StsModeNames.ToWire(Mode)}, max_age {MaxAge}";
}

/// <summary>The steps of a rollout, in the order RFC 8461 §3.1 wants: the new policy file before its new id.</summary>
public enum RolloutStep
{
    /// <summary>policy-host serves the new policy (the state file says so).</summary>
    Serve,
    /// <summary>An HTTPS fetch of https://mta-sts.DOMAIN/.well-known/mta-sts.txt returned exactly the new file.</summary>
    VerifyHttps,
    /// <summary>The zone's primary accepted the TSIG-signed RFC 2136 update of the _mta-sts TXT record.</summary>
    UpdateDns,
    /// <summary>Every authoritative server of the zone answers the new id.</summary>
    VerifyDns,
}

public sealed record StepRecord(RolloutStep Step, DateTimeOffset At, bool Ok, string Detail);

/// <summary>A rollout under way: from and to, and each step tried so far (an interrupted one resumes at <see cref="Next"/>).</summary>
public sealed record PendingRollout(PolicySettings From, string FromId, PolicySettings To, string ToId, bool Rollback,
    DateTimeOffset Started, IReadOnlyList<StepRecord> Log)
{
    public RolloutStep? Next => Enum.GetValues<RolloutStep>().Cast<RolloutStep?>().FirstOrDefault(s => !Log.Any(l => l.Step == s && l.Ok));

    public bool Done(RolloutStep step) => Log.Any(l => l.Step == step && l.Ok);

    public PendingRollout With(StepRecord record) => this with { Log = [.. Log, record] };
}

/// <summary>One own domain's rollout state (kept in data_dir): what policy-host serves, which id DNS was verified to carry,
/// and the rollout under way if any.</summary>
public sealed record RolloutState(PolicySettings Served, string? PublishedId, PendingRollout? Pending);

/// <summary>What `rollout DOMAIN --to …` asks for.</summary>
public sealed record RolloutRequest(StsMode? To, long? MaxAge, bool Rollback);

/// <summary>The decision: a rollout to run (new or resumed), or why not — as values.</summary>
public abstract record RolloutDecision
{
    public sealed record Run(PendingRollout Rollout, bool Resumed) : RolloutDecision;
    public sealed record Refused(string Reason) : RolloutDecision;
}

public static class RolloutPlanner
{
    /// <param name="idOf">The policy id of some settings (with the configured mx patterns).</param>
    /// <param name="steps">publish.domains.*.max_age_steps, ascending.</param>
    public static RolloutDecision Decide(string domain, RolloutState state, RolloutRequest request, IReadOnlyList<long> steps,
        Func<PolicySettings, string> idOf, DateTimeOffset now)
    {
        var p = state.Pending;
        if (request.Rollback)
        {
            if (p is null)
                return new RolloutDecision.Refused($"{domain}: no rollout in progress to roll back");
            // Back to where it started, with the same steps: the old file first, then its id.
            // A rollout that never sent its DNS update left the record as it was: only the file goes back.
            IReadOnlyList<StepRecord> skip = p.Log.Any(l => l.Step == RolloutStep.UpdateDns) ? [] :
            [
                new(RolloutStep.UpdateDns, now, true, "not needed: the rollout never sent its DNS update"),
                new(RolloutStep.VerifyDns, now, true, "not needed: the record was not changed"),
            ];
            return new RolloutDecision.Run(new PendingRollout(p.To, p.ToId, p.From, p.FromId, !p.Rollback, now, skip), false);
        }
        if (request.To is not { } mode)
            return new RolloutDecision.Refused("--to enforce|testing|none or --rollback is required");
        long maxAge = request.MaxAge ?? (mode == StsMode.Enforce && state.Served.Mode != StsMode.Enforce && steps.Count > 0 ? steps[0] : state.Served.MaxAge);
        if (maxAge is < 1 or > StsPolicyParser.MaxMaxAge)
            return new RolloutDecision.Refused($"--max-age {maxAge}: must be from 1 to {StsPolicyParser.MaxMaxAge}");
        var target = new PolicySettings(mode, maxAge);
        string id = idOf(target);
        if (p is not null)
        {
            if (p.To == target && p.ToId == id)
                return new RolloutDecision.Run(p, true);
            return new RolloutDecision.Refused($"{domain}: a {(p.Rollback ? "rollback" : "rollout")} to {p.To} (id {p.ToId}) is in progress since " +
                $"{p.Started.UtcDateTime:yyyy-MM-dd HH:mm}Z; repeat it to resume, or roll it back with --rollback");
        }
        if (target == state.Served && state.PublishedId == id)
        {
            string hint = mode == StsMode.Enforce && steps.FirstOrDefault(s => s > maxAge) is > 0 and var next
                ? $"; raise max_age with --max-age {next}" : "";
            return new RolloutDecision.Refused($"{domain} already publishes {target} (id {id}): nothing to change{hint}");
        }
        return new RolloutDecision.Run(new PendingRollout(state.Served, idOf(state.Served), target, id, false, now, []), false);
    }
}
