using System.CommandLine;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Rollout;
using Portcullis.Publishing;

namespace Portcullis.Cli;

/// <summary>`rollout DOMAIN --to MODE [--max-age N]`: change an own domain's published policy in the safe order; and `rollout status`.</summary>
public static class RolloutCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var domain = new Argument<string>("domain") { Description = "A domain from publish.domains" };
        var to = new Option<string?>("--to") { Description = "New mode: enforce, testing or none" };
        var maxAge = new Option<long?>("--max-age") { Description = "New max_age in seconds (default: the first max_age_steps entry when switching to enforce, else unchanged)" };
        var rollback = new Option<bool>("--rollback") { Description = "Undo the rollout in progress (the old policy file first, then its id)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the steps and change nothing" };
        var cmd = new Command("rollout", "Change one of your domains' MTA-STS policy: serve it, verify it over HTTPS, update _mta-sts by RFC 2136, verify every authoritative server")
        {
            domain, config, dns, to, maxAge, rollback, dryRun,
        };
        CommonOptions.SetRun(cmd, config, dns, (parse, s, ct) =>
            RunAsync(s, parse.GetValue(domain)!, parse.GetValue(to), parse.GetValue(maxAge), parse.GetValue(rollback), parse.GetValue(dryRun), Console.Out, ct));
        cmd.Subcommands.Add(RolloutStatusCommand.Create());
        return cmd;
    }

    public static async Task<int> RunAsync(Settings settings, string key, string? to, long? maxAge, bool rollback, bool dryRun, TextWriter o, CancellationToken ct)
    {
        StsMode? mode = to switch
        {
            null => null,
            "enforce" => StsMode.Enforce,
            "testing" => StsMode.Testing,
            "none" => StsMode.None,
            _ => throw new StartupException($"--to '{to}': expected enforce, testing or none", ExitCodes.Usage),
        };
        if (rollback && (to is not null || maxAge is not null))
            throw new StartupException("--rollback goes alone: it returns to the policy the rollout in progress started from", ExitCodes.Usage);
        var target = RolloutTarget.Open(settings, key);
        var updater = target.Updater(); // a zone whose primary or key is unknown: refused before any change
        var time = TimeProvider.System;
        var state = await target.StateAsync(ct);
        var decision = RolloutPlanner.Decide(target.Domain, state, new RolloutRequest(mode, maxAge, rollback), target.Config.MaxAgeSteps, target.IdOf, time.GetUtcNow());
        if (decision is RolloutDecision.Refused refused)
            throw new StartupException(refused.Reason, ExitCodes.Usage);
        var (rollout, resumed) = (RolloutDecision.Run)decision;
        o.WriteLine($"{(rollout.Rollback ? "Rollback" : "Rollout")} of {target.Domain}{(resumed ? " (resumed)" : "")}: {rollout.From} (id {rollout.FromId}) -> {rollout.To} (id {rollout.ToId})");
        if (dryRun)
        {
            for (int i = 0; i < RolloutRunner.StepNames.Length; i++)
                o.WriteLine($"  [{i + 1}/4] {RolloutRunner.StepNames[i]}{(rollout.Done((RolloutStep)i) ? " (done)" : "")}");
            o.WriteLine($"  TXT: _mta-sts.{target.Domain}. {target.Config.DnsUpdate.Ttl} IN TXT \"v=STSv1; id={rollout.ToId}\" via {target.Primary}, zone {target.Zone}");
            o.WriteLine("Dry run: nothing changed.");
            return 0;
        }
        return await new RolloutRunner(settings, target, o, time).RunAsync(state, rollout, updater, ct);
    }
}
