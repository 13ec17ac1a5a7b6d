using System.Diagnostics;
using System.Net;
using Portcullis.Core.Dns;
using Portcullis.Dns;

namespace Portcullis.Observability;

/// <summary>Decorates a resolver with latency and failure metrics; answers pass through unchanged.</summary>
public sealed class MeasuredDnsResolver(IDnsResolver inner, PortcullisMetrics metrics) : IDnsResolver
{
    public Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct) => Measure("TXT", inner.QueryTxtAsync(name, ct));
    public Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct) => Measure("A+AAAA", inner.QueryAddressesAsync(host, ct));
    public Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct) => Measure("A", inner.QueryAAsync(host, ct));
    public Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct) => Measure("AAAA", inner.QueryAaaaAsync(host, ct));
    public Task<DnsResult<MxRecord>> QueryMxAsync(string domain, CancellationToken ct) => Measure("MX", inner.QueryMxAsync(domain, ct));
    public Task<DnsResult<TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct) => Measure("TLSA", inner.QueryTlsaAsync(name, ct));
    public Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct) => Measure("SOA", inner.QuerySoaAsync(zone, ct));

    private async Task<DnsResult<T>> Measure<T>(string type, Task<DnsResult<T>> query)
    {
        long start = Stopwatch.GetTimestamp();
        var result = await query;
        metrics.DnsLatency.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, PortcullisMetrics.Tags("type", type));
        if (result.IsError)
            metrics.DnsFailures.Add(1, PortcullisMetrics.Tags("reason", result.Status == DnsStatus.Timeout ? "timeout" : "servfail"));
        return result;
    }
}
