using Portcullis.Hosting;
using System.CommandLine;
using Portcullis.Checking;
using Portcullis.Configuration;
using Portcullis.Core.Checking;
using Portcullis.Core.Rollout;
using Portcullis.Net;
using Portcullis.Publishing;

namespace Portcullis.Cli;

/// <summary>
/// `rollout status DOMAIN`: what is served, what DNS says (every authoritative server asked directly), the rollout
/// in progress with its steps, and whether testing → enforce is safe on the evidence of received TLS-RPT reports
/// and the live MX hosts. Exit 0 when nothing is pending and the evidence says safe, 1 otherwise.
/// </summary>
public static class RolloutStatusCommand
{
    /// <summary>Reports read at most (the newest window_days): far more than any domain's daily senders.</summary>
    public const int MaxReports = 20_000;

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var domain = new Argument<string>("domain") { Description = "A domain from publish.domains" };
        var cmd = new Command("status", "The rollout state of one of your domains and whether testing -> enforce is safe on the evidence") { domain, config, dns };
        CommonOptions.SetRun(cmd, config, dns, (parse, s, ct) => RunAsync(s, parse.GetValue(domain)!, Console.Out, TimeProvider.System, ct));
        return cmd;
    }

    public static async Task<int> RunAsync(Settings settings, string key, TextWriter o, TimeProvider time, CancellationToken ct)
    {
        var target = RolloutTarget.Open(settings, key);
        var state = await target.StateAsync(ct);
        string servedId = target.IdOf(state.Served);
        o.WriteLine($"{target.Domain}");
        o.WriteLine($"  served:     {state.Served} (id {servedId}){(target.Store.Load(target.Domain) is null ? ", from the configuration" : ", from the rollout state")}");
        o.WriteLine($"  published:  {(state.PublishedId is { } pub ? $"id {pub}{(pub == servedId ? "" : " (NOT the served policy's id)")}" : "unknown (no rollout yet, primary not asked)")}");
        var p = state.Pending;
        if (p is null)
        {
            o.WriteLine("  rollout:    none in progress");
        }
        else
        {
            o.WriteLine($"  rollout:    {(p.Rollback ? "rollback" : "rollout")} to {p.To} (id {p.ToId}) from {p.From} (id {p.FromId}), since {p.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
            foreach (var l in p.Log)
                o.WriteLine($"    [{(int)l.Step + 1}/4] {RolloutRunner.StepNames[(int)l.Step]}: {(l.Ok ? "ok" : "FAILED")} at {l.At.UtcDateTime:HH:mm:ss}Z: {l.Detail}");
            o.WriteLine(p.Next is { } next
                ? $"    next: [{(int)next + 1}/4] {RolloutRunner.StepNames[(int)next]}; {(p.Done(RolloutStep.Serve) ? $"the policy file (id {p.ToId}) is served" : "the old file is still served")}" +
                  $", {(p.Done(RolloutStep.UpdateDns) ? "the id was updated in DNS" : "the _mta-sts id was NOT bumped")}; repeat the rollout to resume, or --rollback"
                : "    all steps done");
        }
        await WriteDnsAsync(settings, target, servedId, o, ct);
        var verdict = await ReadinessAsync(settings, target, time, ct);
        o.WriteLine($"  testing -> enforce: {(verdict.Safe ? "SAFE on this evidence" : "NOT YET")}");
        foreach (var i in verdict.Items)
            o.WriteLine($"    {(i.Ok ? "ok  " : "MISS")} {Core.Text.TerminalText.Escape(i.Criterion)}: {Core.Text.TerminalText.Escape(i.Detail)}");
        return p is null && verdict.Safe ? 0 : 1;
    }

    private static async Task WriteDnsAsync(Settings settings, RolloutTarget target, string servedId, TextWriter o, CancellationToken ct)
    {
        var (servers, error) = await target.AuthoritativeAsync(settings, ct);
        if (error is not null)
        {
            o.WriteLine($"  DNS:        {error}");
            return;
        }
        foreach (var a in await Task.WhenAll(servers.Select(s => DnsUpdate.AskAsync(s, target.Domain, target.Timeout, ct))))
            o.WriteLine($"  DNS:        {a.Server} answers {Core.Text.TerminalText.Escape(a.Detail)}{(a.Id == servedId ? " (the served policy)" : a.Id is null ? "" : " (NOT the served policy)")}");
    }

    private static async Task<ReadinessVerdict> ReadinessAsync(Settings settings, RolloutTarget target, TimeProvider time, CancellationToken ct)
    {
        var r = settings.Config.Publish.Readiness;
        var now = time.GetUtcNow();
        IReadOnlyList<Core.TlsRpt.TlsRptReport> reports;
        using (var store = settings.OpenReportStore())
            reports = store.Reports(now.AddDays(-r.WindowDays), MaxReports);
        var evidence = ReportEvidence.Collect(target.Domain, reports);
        var (mx, mxError) = await MxAsync(settings, target, ct);
        return Readiness.Judge(evidence, mx, mxError, new ReadinessThresholds(r.MinDays, r.MinOrganizations, r.MinSessions, r.MaxFailurePercent, r.MxCertificateDays), now);
    }

    /// <summary>The live MX hosts, each checked against the configured mx patterns and probed on port 25 (first address).</summary>
    private static async Task<(IReadOnlyList<MxEvidence>, string?)> MxAsync(Settings settings, RolloutTarget target, CancellationToken ct)
    {
        var dns = settings.CreateResolver();
        var mx = await dns.QueryMxAsync(target.Domain, ct);
        if (mx.IsError)
            return ([], $"MX lookup of {target.Domain} failed: {mx.Detail}");
        var hosts = mx.Records.Where(m => m.Exchange.Length > 0).OrderBy(m => m.Preference).Select(m => m.Exchange).Distinct().Take(10).ToList();
        var list = new List<MxEvidence>();
        foreach (string h in hosts)
        {
            bool covered = MxPatternMatch.Covered(target.Configured.Mx, h);
            var a = await dns.QueryAddressesAsync(h, ct);
            if (a.IsError || a.Records.Count == 0)
            {
                list.Add(new(h, covered, null, $"no address: {a.Detail}"));
                continue;
            }
            var probe = await StartTlsProbe.RunAsync(h, a.Records[0], CheckCommand.ProbeTimeout, ct);
            string? problem = probe.Error ?? (!probe.StartTlsOffered ? "STARTTLS not offered"
                : probe.Chain.Count == 0 ? "no certificate"
                : probe.Errors != System.Net.Security.SslPolicyErrors.None ? $"certificate not valid for {h}: {probe.Errors} {probe.ChainStatus}".Trim() : null);
            list.Add(new(h, covered, probe.Chain.Count > 0 ? new DateTimeOffset(probe.Chain[0].NotAfter.ToUniversalTime()) : null, problem));
        }
        return (list, null);
    }
}
