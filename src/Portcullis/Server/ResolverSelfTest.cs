using Microsoft.Extensions.Hosting;
using Portcullis.Dns;

namespace Portcullis.Server;

/// <summary>Repeats the resolver DNSSEC self-test every five minutes (the first runs before listening).</summary>
public sealed class ResolverSelfTest(ResolverHealth health, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await health.CheckAsync(stoppingToken);
    }
}
