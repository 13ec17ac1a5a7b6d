using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Observability;
using Portcullis.Hosting;

namespace Portcullis.Tests.Hosting;

public sealed class ConnectionGateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_full_gate_makes_the_next_caller_wait_until_a_slot_is_released()
    {
        using var metrics = new PortcullisMetrics();
        var gate = new ConnectionGate("socketmap", 2, metrics, NullLogger.Instance, _time);
        await gate.WaitAsync(CancellationToken.None);
        await gate.WaitAsync(CancellationToken.None);
        var third = gate.WaitAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        gate.Release();
        await third.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Waves_of_clients_within_the_episode_gap_count_one_episode()
    {
        using var metrics = new PortcullisMetrics();
        long episodes = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Name == "portcullis_connection_limit_reached_total")
                l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref episodes, v));
        listener.Start();
        var gate = new ConnectionGate("socketmap", 1, metrics, NullLogger.Instance, _time);
        await gate.WaitAsync(CancellationToken.None);
        for (int wave = 0; wave < 5; wave++)
        {
            var waiting = gate.WaitAsync(CancellationToken.None).AsTask();
            _time.Advance(TimeSpan.FromSeconds(5));
            gate.Release();
            await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        }
        Assert.Equal(1, Interlocked.Read(ref episodes));
        // After a quiet gap, hitting the limit again is a new episode.
        _time.Advance(ConnectionGate.EpisodeGap + TimeSpan.FromSeconds(1));
        var again = gate.WaitAsync(CancellationToken.None).AsTask();
        gate.Release();
        await again.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, Interlocked.Read(ref episodes));
    }

    [Fact]
    public void Log_throttle_allows_one_line_per_interval_and_counts_the_rest()
    {
        var throttle = new LogThrottle(_time, TimeSpan.FromMinutes(1));
        Assert.True(throttle.TryEnter(out long skipped));
        Assert.Equal(0, skipped);
        for (int i = 0; i < 10; i++)
            Assert.False(throttle.TryEnter(out _));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(throttle.TryEnter(out skipped));
        Assert.Equal(10, skipped);
        Assert.Equal("a?b", LogThrottle.Printable("a\nb"));
    }
}
