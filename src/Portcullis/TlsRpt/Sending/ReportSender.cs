using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Observability;
using Portcullis.Storage.Sessions;

namespace Portcullis.TlsRpt.Sending;

/// <summary>What one run did, for the CLI and tests.</summary>
public sealed record SendRun(IReadOnlyList<string> Generated, IReadOnlyList<string> Delivered, IReadOnlyList<string> Failed);

/// <summary>
/// Turns the counted sessions into reports and delivers them: a report per recipient domain and UTC
/// day that had sessions (none for days without), once the day is over; one delivery per rua URI,
/// retried with back-off for <c>retry_for</c>. Used by the daemon every minute and by `tlsrpt send`.
/// </summary>
public sealed class ReportSender(SessionStore store, ReportPlanner planner, ReporterIdentity who,
    IReadOnlyDictionary<DestinationKind, IReportTransport> transports, TimeProvider time, ILogger log, PortcullisMetrics? metrics = null)
{
    /// <param name="day">Also generate this day's report now, even if the day is not over (the CLI's --day).</param>
    public async Task<SendRun> RunAsync(DateOnly? day, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var generated = new List<string>();
        var due = (await store.UnreportedAsync(day is { } d && d >= today ? d.AddDays(1) : today, ct))
            .Where(x => x.Day == day || (x.Day < today && planner.IsDue(x.Day, x.Domain, now)));
        foreach (var (reportDay, domain) in due)
        {
            if (await GenerateAsync(reportDay, domain, now, ct) is { } id)
                generated.Add(id);
        }
        var delivered = new List<string>();
        var failed = new List<string>();
        foreach (var pending in await store.DueDeliveriesAsync(now, ct))
        {
            ct.ThrowIfCancellationRequested();
            if (!await store.TryClaimAsync(pending, now, TimeSpan.FromMinutes(10), ct))
                continue; // another run (daemon or CLI) is delivering it
            var report = new OutgoingReport(pending.ReportId, pending.Domain, pending.Day, pending.Submitter, pending.Json);
            var result = await DeliverAsync(report, pending.Destination, ct);
            var after = time.GetUtcNow();
            var next = result.Outcome != DeliveryOutcome.Retry ? null : planner.NextAttempt(pending.FirstAttempt ?? after, pending.Attempts + 1, after);
            await store.AttemptedAsync(pending, result.Outcome == DeliveryOutcome.Delivered, result.Error, next, after, ct);
            string what = $"{pending.ReportId} to {pending.Destination}";
            string outcome = result.Outcome == DeliveryOutcome.Delivered ? "sent" : next is null ? "failed" : "retry";
            metrics?.TlsRptDeliveries.Add(1, new System.Diagnostics.TagList
                { { "kind", pending.Destination.Kind.ToString().ToLowerInvariant() }, { "outcome", outcome } });
            if (result.Outcome == DeliveryOutcome.Delivered)
            {
                log.LogInformation("TLS-RPT report {What} delivered", what);
                delivered.Add(what);
            }
            else if (next is null)
            {
                log.LogError("TLS-RPT report {What} given up after {Attempts} attempt(s): {Error}", what, pending.Attempts + 1, result.Error);
                failed.Add($"{what}: {result.Error}");
            }
            else
            {
                log.LogWarning("TLS-RPT report {What} not delivered, retry at {Next:u}: {Error}", what, next, result.Error);
                failed.Add($"{what}: {result.Error} (retry at {next:u})");
            }
        }
        return new SendRun(generated, delivered, failed);
    }

    // A transport's unexpected exception must cost one attempt, not the other deliveries or the daemon.
    private async Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct)
    {
        if (!transports.TryGetValue(to.Kind, out var transport))
            return DeliveryResult.GiveUp($"no transport for {to}");
        try
        {
            return await transport.DeliverAsync(report, to, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task<string?> GenerateAsync(DateOnly day, string domain, DateTimeOffset now, CancellationToken ct)
    {
        var tallies = await store.TalliesAsync(day, domain, ct);
        if (tallies.Count == 0)
            return null;
        string reportId = $"{day:yyyyMMdd}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}@{who.Submitter}";
        string json = ReportDocument.Json(day, reportId, who, tallies);
        string? record = await store.PolicyRecordAsync(day, domain, ct);
        var (destinations, problem) = record is null ? ([], "Postfix reported no _smtp._tls record") : ReportDestination.FromRecord(record);
        long ok = tallies.Sum(t => t.Successful), failed = tallies.Sum(t => t.Failed);
        if (!await store.AddReportAsync(day, domain, reportId, who.Submitter, json, destinations, problem is null ? null : "not sent: " + problem, (ok, failed), now, ct))
            return null;
        if (problem is not null)
            log.LogWarning("TLS-RPT report for {Domain} {Day:yyyy-MM-dd} not sent: {Problem}", domain, day, problem);
        else
            log.LogInformation("TLS-RPT report {Id} for {Domain} {Day:yyyy-MM-dd}: {Ok} successful, {Failed} failed session(s), to {To}",
                reportId, domain, day, ok, failed, string.Join(", ", destinations));
        return reportId;
    }
}
