using Portcullis.Core.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>Opens the real store on first use and again after opening failed, so a store that cannot
/// be opened at start (a full disk, a database down) costs 503s, never the daemon.</summary>
public sealed class OpeningReportStore(Func<IReportStore> open) : IReportStore
{
    private readonly Lock _lock = new();
    private IReportStore? _store;

    private IReportStore Store()
    {
        lock (_lock)
            return _store ??= open();
    }

    public StoreResult Add(TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received) => Store().Add(report, raw, received);

    public Task<SummaryPage> SummaryAsync(DateOnly since, string? domain, int maxRows, CancellationToken ct) =>
        Store().SummaryAsync(since, domain, maxRows, ct);

    public IReadOnlyList<TlsRptReport> Reports(DateTimeOffset since, int max) => Store().Reports(since, max);

    public DateOnly? LastReportDay(string policyDomain) => Store().LastReportDay(policyDomain);

    public void Dispose()
    {
        lock (_lock)
            _store?.Dispose();
    }
}
