using Microsoft.Extensions.Hosting;
using Portcullis.Dns;

namespace Portcullis.Hosting.Jobs;

/// <summary>
/// Repeats the resolver DNSSEC self-test (the first runs while the listeners start, see Daemon): every five minutes
/// while it passes, every few seconds while it fails, so the gauge and the log follow a recovery
/// even when no query arrives (queries re-test on their own, see <see cref="ResolverHealth.TrustAsync"/>).
/// </summary>
public sealed class ResolverSelfTest(ResolverHealth health, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(health.Validates ? Interval : RetryInterval, time, stoppingToken);
                await health.CheckAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutdown
        }
    }
}
