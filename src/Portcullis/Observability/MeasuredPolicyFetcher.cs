using Portcullis.Core.Policy;
using Portcullis.Http;
using Portcullis.Core.MtaSts;

namespace Portcullis.Observability;

/// <summary>Decorates the policy fetcher with latency and failure metrics.</summary>
public sealed class MeasuredPolicyFetcher(IPolicyFetcher inner, PortcullisMetrics metrics) : IPolicyFetcher
{
    public async Task<FetchReport> FetchAsync(string domain, CancellationToken ct)
    {
        var report = await inner.FetchAsync(domain, ct);
        metrics.FetchLatency.Record(report.Elapsed.TotalSeconds);
        if (report.Outcome.Failure is { } failure)
            metrics.FetchFailures.Add(1, PortcullisMetrics.Tags("reason", StsFailureTypeNames.ToWire(failure)));
        return report;
    }
}
