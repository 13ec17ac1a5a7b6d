using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Storage.Sessions;

/// <summary>A report delivery waiting for its next attempt.</summary>
/// <param name="Submitter">The submitter the report was generated with, even if the configuration changed since.</param>
public sealed record PendingDelivery(string ReportId, string Domain, DateOnly Day, ReportDestination Destination, int Attempts,
    DateTimeOffset? FirstAttempt, string Json, string Submitter);

/// <summary>Outcome of one delivery row, for `tlsrpt sent` and tests.</summary>
public sealed record DeliveryRow(string ReportId, string Domain, DateOnly Day, long Successful, long Failed, string Destination, string Status,
    int Attempts, string? LastError);
