using Portcullis.Hosting;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Rollout;
using Portcullis.Http;
using Portcullis.Net;

namespace Portcullis.Publishing;

/// <summary>
/// Runs a rollout's steps in order — serve the new policy, fetch it back over HTTPS, update the _mta-sts TXT record
/// (RFC 2136 + TSIG), check every authoritative server — and saves the state after each one, so an interrupted
/// rollout resumes where it stopped, or is rolled back by the same steps. A failed step changes nothing after it.
/// </summary>
public sealed class RolloutRunner(Settings settings, RolloutTarget target, TextWriter o, TimeProvider time)
{
    public static readonly string[] StepNames = ["serve the new policy file from policy-host", "fetch it back over HTTPS",
        "update the _mta-sts TXT record (RFC 2136, TSIG)", "check every authoritative server answers the new id"];

    /// <summary>0 done; 1 a step failed (the rollout stays pending: repeat to resume, or --rollback).</summary>
    public async Task<int> RunAsync(RolloutState state, PendingRollout rollout, DnsUpdate updater, CancellationToken ct)
    {
        state = state with { Pending = rollout };
        target.Store.Save(target.Domain, state);
        while (state.Pending!.Next is { } step)
        {
            var (ok, detail) = step switch
            {
                RolloutStep.Serve => (true, $"policy-host serves id {rollout.ToId} from the next request on"),
                RolloutStep.VerifyHttps => await VerifyHttpsAsync(rollout, ct),
                RolloutStep.UpdateDns => await UpdateDnsAsync(rollout, updater, ct),
                _ => await VerifyDnsAsync(rollout, ct),
            };
            var pending = state.Pending.With(new StepRecord(step, time.GetUtcNow(), ok, detail));
            state = step == RolloutStep.Serve && ok ? state with { Served = rollout.To, Pending = pending } : state with { Pending = pending };
            target.Store.Save(target.Domain, state);
            o.WriteLine($"  [{(int)step + 1}/4] {StepNames[(int)step]}: {(ok ? "ok" : "FAILED")}: {detail}");
            if (!ok)
            {
                string changed = pending.Done(RolloutStep.UpdateDns) ? "" : "; the _mta-sts record was not changed";
                o.WriteLine($"Stopped: {target.Domain} serves id {rollout.ToId}{changed}. `portcullis rollout status {target.Domain}` shows the state; " +
                    "repeat the command to resume, or roll back with --rollback.");
                return 1;
            }
        }
        target.Store.Save(target.Domain, new RolloutState(rollout.To, rollout.ToId, null));
        o.WriteLine($"Done: {target.Domain} publishes {rollout.To} (id {rollout.ToId}).");
        return 0;
    }

    private async Task<(bool, string)> VerifyHttpsAsync(PendingRollout r, CancellationToken ct)
    {
        string expected = target.PolicyOf(r.To).Text;
        using var fetcher = new PolicyFetcher(settings.CreateResolver(), settings.Fetch, time);
        string last = "";
        // policy-host re-reads the state file at its next request; a few tries cover a slow file system or a restart.
        for (int attempt = 0; attempt < 5; attempt++)
        {
            if (attempt > 0)
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
            var f = await fetcher.FetchAsync(target.Domain, ct);
            if (f.Body == expected)
                return (true, $"{f.Url} returned the new policy ({f.BodyBytes} bytes)");
            string? servedId = f.Body is { } b && StsPolicyParser.Parse(System.Text.Encoding.ASCII.GetBytes(b)).Policy is { } p
                ? $"mode {StsModeNames.ToWire(p.Mode)}, max_age {p.MaxAgeSeconds}" : null;
            last = f.Body is null ? $"{f.Url}: {f.Outcome}" : $"{f.Url} serves another policy ({servedId ?? "invalid"}), not id {r.ToId}";
        }
        return (false, Core.Text.TerminalText.Escape(last) + "; is policy-host running with this configuration and data_dir?");
    }

    private async Task<(bool, string)> UpdateDnsAsync(PendingRollout r, DnsUpdate updater, CancellationToken ct)
    {
        // Already there (a resumed rollout whose update went through before the interruption): nothing to send.
        var now = await DnsUpdate.AskAsync(target.Primary!, target.Domain, target.Timeout, ct);
        if (now.Id == r.ToId)
            return (true, $"{target.Primary} already answers id {r.ToId}");
        var u = await updater.ReplaceAsync(target.Domain, r.ToId, ct);
        return (u.Ok, u.Detail);
    }

    private async Task<(bool, string)> VerifyDnsAsync(PendingRollout r, CancellationToken ct)
    {
        var (servers, error) = await target.AuthoritativeAsync(settings, ct);
        if (error is not null)
            return (false, error);
        var deadline = time.GetUtcNow().AddSeconds(target.Config.DnsUpdate.VerifyTimeout);
        while (true)
        {
            var answers = await Task.WhenAll(servers.Select(s => DnsUpdate.AskAsync(s, target.Domain, target.Timeout, ct)));
            var behind = answers.Where(a => a.Id != r.ToId).ToList();
            if (behind.Count == 0)
                return (true, $"{string.Join(", ", answers.Select(a => a.Server))} answer id {r.ToId}");
            if (time.GetUtcNow() >= deadline)
            {
                return (false, $"after {target.Config.DnsUpdate.VerifyTimeout} s: " +
                    string.Join(", ", behind.Select(a => $"{a.Server} answers {Core.Text.TerminalText.Escape(a.Detail)}")));
            }
            await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
        }
    }
}
