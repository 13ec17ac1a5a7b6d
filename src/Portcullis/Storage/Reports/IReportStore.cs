using System.Data.Common;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Storage.Reports;

public enum StoreResult { Stored, Duplicate, OverQuota }

/// <summary>Received TLS-RPT reports, deduplicated by report-id (senders retry). Store failures throw
/// (<see cref="DbException"/>); the receiver turns them into 503s.</summary>
public interface IReportStore : IDisposable
{
    /// <summary>Synchronous on purpose: it runs on ReportIntake's few dedicated, niced worker threads (and in the
    /// CLI's import), never on a Kestrel thread, and holds the store for one report at a time.</summary>
    /// <param name="raw">The report as gzip (the sender's own when it sent gzip): kept compressed.</param>
    StoreResult Add(TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received);

    /// <summary>Summary rows from <paramref name="since"/> on, at most <paramref name="maxRows"/> (the console page, the CLI).</summary>
    Task<SummaryPage> SummaryAsync(DateOnly since, string? domain, int maxRows, CancellationToken ct);

    /// <summary>The stored reports whose date range ends at or after <paramref name="since"/>, oldest first, at most
    /// <paramref name="max"/> (re-parsed from the kept gzip: `rollout status` needs per-MX detail the summaries drop).</summary>
    IReadOnlyList<TlsRptReport> Reports(DateTimeOffset since, int max);

    /// <summary>UTC day of the newest stored report about <paramref name="policyDomain"/>; null: none.</summary>
    DateOnly? LastReportDay(string policyDomain);
}
