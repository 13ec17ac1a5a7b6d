using Microsoft.Extensions.Hosting;
using Portcullis.Dns;

namespace Portcullis.Server;

/// <summary>Runs the resolver DNSSEC self-test at start-up and every five minutes.</summary>
public sealed class ResolverSelfTest(ResolverHealth health, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await health.CheckAsync(stoppingToken);
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await health.CheckAsync(stoppingToken);
    }
}
