using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Resolution;

namespace Portcullis.Hosting.Jobs;

/// <summary>Hourly removal of cache entries that can no longer influence an answer.</summary>
public sealed class CacheSweeper(PolicyCacheAdmin cache, TimeProvider time, ILogger<CacheSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await cache.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Cache sweep failed");
            }
        }
    }
}
