using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portcullis.Observability;

/// <summary>
/// Every instrument Portcullis exposes, on one <see cref="Meter"/>. Names follow Prometheus
/// conventions once exported (<see cref="PrometheusExporter"/>).
/// </summary>
public sealed class PortcullisMetrics : IDisposable
{
    public const string MeterName = "Portcullis";
    private readonly Meter _meter = new(MeterName, "1.0");

    public PortcullisMetrics()
    {
        Queries = _meter.CreateCounter<long>("portcullis_queries_total", description: "Socketmap queries by map name and answer kind");
        CacheRequests = _meter.CreateCounter<long>("portcullis_cache_requests_total", description: "Policy cache lookups by result (hit, miss)");
        DnsLatency = _meter.CreateHistogram<double>("portcullis_dns_lookup_seconds", "s", "DNS lookup latency by record type");
        DnsFailures = _meter.CreateCounter<long>("portcullis_dns_failures_total", description: "DNS lookups that failed, by reason (servfail, timeout)");
        FetchLatency = _meter.CreateHistogram<double>("portcullis_https_fetch_seconds", "s", "MTA-STS policy fetch latency");
        FetchFailures = _meter.CreateCounter<long>("portcullis_https_fetch_failures_total", description: "Policy fetches that failed, by RFC 8460 result type");
        Prefetch = _meter.CreateCounter<long>("portcullis_prefetch_total", description: "Proactive refreshes by outcome");
        StoreFailures = _meter.CreateCounter<long>("portcullis_cache_store_failures_total", description: "Cache store reads/writes that failed (answered live)");
        Connections = _meter.CreateUpDownCounter<long>("portcullis_open_connections", description: "Open socketmap connections");
        ConnectionLimitReached = _meter.CreateCounter<long>("portcullis_connection_limit_reached_total",
            description: "Times a listener group reached limits.max_connections and left new connections in the backlog, by listener (socketmap, http)");
        ProtocolErrors = _meter.CreateCounter<long>("portcullis_protocol_errors_total", description: "Socketmap connections closed for malformed framing");
        TlsRptReports = _meter.CreateCounter<long>("portcullis_tlsrpt_reports_total", description: "TLS-RPT reports received, by outcome (stored, duplicate, invalid)");
        TlsRptSessions = _meter.CreateCounter<long>("portcullis_tlsrpt_sessions_total", description: "Sessions in stored TLS-RPT reports, by policy domain and result");
        TlsRptFailures = _meter.CreateCounter<long>("portcullis_tlsrpt_failure_sessions_total", description: "Failed sessions in stored TLS-RPT reports, by policy domain and result type");
        TlsRptDatagrams = _meter.CreateCounter<long>("portcullis_tlsrpt_datagrams_total", description: "libtlsrpt datagrams from Postfix, by outcome (recorded, invalid, dropped)");
        TlsRptOutgoingSessions = _meter.CreateCounter<long>("portcullis_tlsrpt_outgoing_sessions_total", description: "Sessions of this server collected for reports, by policy type and result");
        OwnDomainGauges.Create(_meter, () => OwnDomains);
        TlsRptDeliveries = _meter.CreateCounter<long>("portcullis_tlsrpt_report_deliveries_total", description: "Attempts to deliver generated reports, by kind (mail, https) and outcome (sent, retry, failed)");
    }

    public Counter<long> Queries { get; }
    public Counter<long> CacheRequests { get; }
    public Histogram<double> DnsLatency { get; }
    public Counter<long> DnsFailures { get; }
    public Histogram<double> FetchLatency { get; }
    public Counter<long> FetchFailures { get; }
    public Counter<long> Prefetch { get; }
    public Counter<long> StoreFailures { get; }
    public UpDownCounter<long> Connections { get; }
    public Counter<long> ProtocolErrors { get; }
    public Counter<long> ConnectionLimitReached { get; }
    public Counter<long> TlsRptReports { get; }
    public Counter<long> TlsRptSessions { get; }
    public Counter<long> TlsRptFailures { get; }
    public Counter<long> TlsRptDatagrams { get; }
    public Counter<long> TlsRptOutgoingSessions { get; }
    public Counter<long> TlsRptDeliveries { get; }

    /// <summary>The own-domain monitor's latest results (set by the daemon when it monitors); read at each scrape.</summary>
    public OwnDomainSource? OwnDomains { get; set; }

    /// <summary>Observable gauges read their values when metrics are scraped.</summary>
    public void ObserveGauges(Func<long> cacheEntries, Func<int> resolverValidating)
    {
        _meter.CreateObservableGauge("portcullis_cache_entries", cacheEntries, description: "Domains held in the in-memory cache");
        _meter.CreateObservableGauge("portcullis_resolver_validating", resolverValidating,
            description: "1 when the resolver passed its DNSSEC self-test, 0 otherwise");
    }

    public static TagList Tags(string key, string value) => new() { { key, value } };

    public void Dispose() => _meter.Dispose();
}
