namespace Portcullis.Core.Monitoring;

/// <summary>
/// When the own-domain monitor runs: soon after start (so the gauges exist), then every interval
/// ± <see cref="Jitter"/>, so daemons started together (a cluster, a reboot) do not probe in step.
/// </summary>
public static class MonitorSchedule
{
    public const double Jitter = 0.1;

    /// <summary>The longest wait before the first run.</summary>
    public static readonly TimeSpan MaxFirstDelay = TimeSpan.FromSeconds(30);

    /// <param name="random01">A uniform random number in [0, 1).</param>
    public static TimeSpan FirstDelay(TimeSpan interval, double random01) =>
        TimeSpan.FromTicks((long)(Math.Min(interval.Ticks * Jitter, MaxFirstDelay.Ticks) * Clamp(random01)));

    /// <param name="random01">A uniform random number in [0, 1).</param>
    public static TimeSpan NextDelay(TimeSpan interval, double random01) =>
        TimeSpan.FromTicks((long)(interval.Ticks * (1 - Jitter + 2 * Jitter * Clamp(random01))));

    private static double Clamp(double r) => double.IsNaN(r) ? 0 : Math.Clamp(r, 0, 1);
}
