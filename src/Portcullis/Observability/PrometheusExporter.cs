using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Portcullis.Observability;

/// <summary>
/// Collects the Portcullis meter with a <see cref="MeterListener"/> and renders the Prometheus
/// text exposition format (version 0.0.4): counters as sums, gauges as last values, histograms
/// with cumulative buckets.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<LabelKey, Series>> _series = new();
    private readonly Lock _render = new();
    private long _collection;

    // Up to two string tags as a key, so recording a measurement builds no label text (the query path
    // records two per request); other tag sets are keyed by their rendered text.
    private readonly record struct LabelKey(string? K1, string? V1, string? K2, string? V2);

    private sealed class Series(string labels)
    {
        public readonly string Labels = labels;
        public double Value;
        public long Count;
        public long Collection; // observable series: the collection that last reported it
        public readonly long[] BucketCounts = new long[Buckets.Length];
    }

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // The runtime's own meter too: GC heap and working set explain the process's memory.
            if (instrument.Meter.Name is PortcullisMetrics.MeterName or "System.Runtime")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var byLabels = _series.GetOrAdd(instrument, static _ => new ConcurrentDictionary<LabelKey, Series>());
        var key = Key(tags);
        if (!byLabels.TryGetValue(key, out var s))
            s = byLabels.GetOrAdd(key, new Series(Labels(tags)));
        lock (s)
        {
            switch (instrument)
            {
                case { IsObservable: true }:
                    // Observable instruments report their current (for counters: cumulative) value.
                    s.Value = value;
                    s.Collection = Volatile.Read(ref _collection);
                    break;
                case Histogram<double>:
                    s.Value += value;
                    s.Count++;
                    for (int b = 0; b < Buckets.Length; b++)
                    {
                        if (value <= Buckets[b])
                            s.BucketCounts[b]++;
                    }
                    break;
                default:
                    s.Value += value;
                    break;
            }
        }
    }

    private static LabelKey Key(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (tags.Length)
        {
            case 0:
                return default;
            case 1 when tags[0].Value is string v:
                return new LabelKey(tags[0].Key, v, null, null);
            case 2 when tags[0].Value is string a && tags[1].Value is string b:
                return string.CompareOrdinal(tags[0].Key, tags[1].Key) <= 0
                    ? new LabelKey(tags[0].Key, a, tags[1].Key, b)
                    : new LabelKey(tags[1].Key, b, tags[0].Key, a);
            default:
                return new LabelKey(Labels(tags), null, null, "\u0001"); // marker: rendered text, not a tag
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
            return "";
        var parts = new List<string>(tags.Length);
        foreach (var t in tags)
            parts.Add($"{t.Key.Replace('.', '_')}=\"{Escape(t.Value?.ToString() ?? "")}\"");
        parts.Sort(StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public string Render()
    {
        lock (_render)
            return RenderCollected();
    }

    private string RenderCollected()
    {
        long collection = Interlocked.Increment(ref _collection);
        _listener.RecordObservableInstruments();
        var sb = new StringBuilder();
        foreach (var (instrument, byLabels) in _series.OrderBy(kv => kv.Key.Name, StringComparer.Ordinal))
        {
            // Prometheus names allow no dots: dotnet.gc.collections -> dotnet_gc_collections.
            string name = instrument.Name.Replace('.', '_');
            string type = instrument switch
            {
                Histogram<double> => "histogram",
                Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => "counter",
                _ => "gauge",
            };
            sb.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (key, s) in byLabels.OrderBy(kv => kv.Value.Labels, StringComparer.Ordinal))
            {
                // A gauge series its callback no longer reports (a check that stopped applying) goes, not its last value.
                if (instrument.IsObservable && s.Collection != collection)
                {
                    byLabels.TryRemove(key, out _);
                    continue;
                }
                string labels = s.Labels;
                lock (s)
                {
                    if (type == "histogram")
                    {
                        for (int b = 0; b < Buckets.Length; b++)
                            Line(sb, name + "_bucket", With(labels, $"le=\"{Num(Buckets[b])}\""), s.BucketCounts[b]);
                        Line(sb, name + "_bucket", With(labels, "le=\"+Inf\""), s.Count);
                        Line(sb, name + "_sum", labels, s.Value);
                        Line(sb, name + "_count", labels, s.Count);
                    }
                    else
                    {
                        Line(sb, name, labels, s.Value);
                    }
                }
            }
        }
        return sb.ToString();
    }

    private static string With(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

    private static void Line(StringBuilder sb, string name, string labels, double value)
    {
        sb.Append(name);
        if (labels.Length > 0)
            sb.Append('{').Append(labels).Append('}');
        sb.Append(' ').Append(Num(value)).Append('\n');
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();
}
