using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Storage.Sessions;

namespace Portcullis.TlsRpt.Sending;

/// <summary>Runs the <see cref="ReportSender"/> every minute (reports become due once per day, and
/// retries at their own times), and forgets old counts once a day.</summary>
public sealed class ReportSchedule(ReportSender sender, SessionStore store, int retentionDays, TimeProvider time,
    ILogger<ReportSchedule> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, time);
        DateOnly pruned = default;
        do
        {
            try
            {
                await sender.RunAsync(null, ct);
                var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
                if (today != pruned)
                {
                    int n = await store.PruneAsync(today.AddDays(-retentionDays), ct);
                    if (n > 0)
                        log.LogInformation("Forgot {Rows} TLS-RPT row(s) older than {Days} days", n, retentionDays);
                    pruned = today;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Reporting is best effort: a failure here must never stop the policy server.
                log.LogError(ex, "TLS-RPT report run failed; next try in {Interval}", Interval);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
