using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.TlsRpt.Sending;

/// <summary>Delivers a report to one rua destination; failures are results, not exceptions.</summary>
public interface IReportTransport
{
    Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct);
}
