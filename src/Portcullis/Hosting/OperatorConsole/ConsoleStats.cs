using System.Diagnostics.Metrics;
using Portcullis.Observability;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// Counts over the last hour and day for the overview, taken from the same instruments /metrics exports
/// (<see cref="PortcullisMetrics"/>) with a listener of its own: per minute, for a day, per series. The series
/// are the instruments below times their one label, whose values the daemon chooses (answer kinds, RFC 8460
/// result types, outcomes), and at most <see cref="MaxSeries"/> of them are kept.
/// </summary>
public sealed class ConsoleStats : IDisposable
{
    public const int MaxSeries = 128, Minutes = 24 * 60;

    /// <summary>Instrument name → the label that splits it (null: one series).</summary>
    private static readonly Dictionary<string, string?> Watched = new(StringComparer.Ordinal)
    {
        ["portcullis_queries_total"] = "answer",
        ["portcullis_https_fetch_failures_total"] = "reason",
        ["portcullis_dns_failures_total"] = "reason",
        ["portcullis_cache_store_failures_total"] = null,
        ["portcullis_prefetch_total"] = "result",
        ["portcullis_tlsrpt_reports_total"] = "outcome",
    };

    private sealed class Series
    {
        public readonly long[] Minute = new long[Minutes]; // which minute each slot holds
        public readonly long[] Count = new long[Minutes];
    }

    private readonly TimeProvider _time;

    /// <summary>When the daemon started (this is created with it).</summary>
    public DateTimeOffset StartedAt { get; }
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Instrument, string Label), Series> _series = [];

    public ConsoleStats(TimeProvider time)
    {
        _time = time;
        StartedAt = time.GetUtcNow();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PortcullisMetrics.MeterName && Watched.ContainsKey(instrument.Name))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.Start();
    }

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? key = Watched[instrument];
        string label = "";
        foreach (var t in tags)
        {
            if (t.Key == key)
                label = t.Value as string ?? "";
        }
        long minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        int slot = (int)(minute % Minutes);
        lock (_lock)
        {
            if (!_series.TryGetValue((instrument, label), out var s))
            {
                if (_series.Count >= MaxSeries)
                    return;
                _series[(instrument, label)] = s = new Series();
            }
            if (s.Minute[slot] != minute)
            {
                s.Minute[slot] = minute;
                s.Count[slot] = 0;
            }
            s.Count[slot] += value;
        }
    }

    /// <summary>Per label of one instrument: the sums over the last 60 and 1440 minutes (this minute included).</summary>
    public IReadOnlyList<WindowCount> Counts(string instrument)
    {
        long now = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        var result = new List<WindowCount>();
        lock (_lock)
        {
            foreach (var ((name, label), s) in _series)
            {
                if (name != instrument)
                    continue;
                long hour = 0, day = 0;
                for (int i = 0; i < Minutes; i++)
                {
                    long age = now - s.Minute[i];
                    if (age is < 0 or >= Minutes || s.Count[i] == 0)
                        continue;
                    day += s.Count[i];
                    if (age < 60)
                        hour += s.Count[i];
                }
                result.Add(new WindowCount(label, hour, day));
            }
        }
        return [.. result.OrderBy(c => c.Label, StringComparer.Ordinal)];
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>One series' sums over the last hour and the last day.</summary>
public sealed record WindowCount(string Label, long LastHour, long LastDay);
