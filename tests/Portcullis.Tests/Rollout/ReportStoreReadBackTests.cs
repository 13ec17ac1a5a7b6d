using System.Text;
using Portcullis.Core.TlsRpt;
using Portcullis.Storage.Reports;
using Portcullis.Tests.TlsRpt;
using Portcullis.TlsRpt;

namespace Portcullis.Tests.Rollout;

/// <summary>`rollout status` re-reads stored reports (kept gzip) for their per-MX detail.</summary>
public sealed class ReportStoreReadBackTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portcullis-readback-{Guid.NewGuid():N}.db");

    [Fact]
    public void A_stored_report_reads_back_whole_from_its_gzip()
    {
        byte[] json = Encoding.UTF8.GetBytes(TlsRptParserTests.Rfc);
        var report = TlsRptParser.Parse(json).Report!;
        using (var store = new SqliteReportStore(_path, 1 << 20))
        {
            Assert.Equal(StoreResult.Stored, store.Add(report, ReportInput.Gzip(json), DateTimeOffset.UtcNow));
            var back = Assert.Single(store.Reports(new DateTimeOffset(2016, 3, 1, 0, 0, 0, TimeSpan.Zero), 10));
            Assert.Equal(3, back.Policies[0].Failures.Count);
            Assert.Equal("mx2.mail.company-y.example", back.Policies[0].Failures[1].ReceivingMxHostname);
            Assert.Empty(store.Reports(new DateTimeOffset(2016, 4, 3, 0, 0, 0, TimeSpan.Zero), 10)); // ended before
        }
    }

    [Fact]
    public void A_plain_json_report_received_is_kept_whole_too()
    {
        byte[] json = Encoding.UTF8.GetBytes(TlsRptParserTests.Rfc);
        using var store = new SqliteReportStore(_path, 1 << 20);
        var (outcome, detail) = new ReportReceiver(store, TimeProvider.System).Receive(json);
        Assert.True(outcome == ReceiveOutcome.Stored, detail);
        Assert.Equal(303L, Assert.Single(store.Reports(DateTimeOffset.UnixEpoch, 10)).Policies[0].Failed);
    }

    public void Dispose()
    {
        foreach (string f in new[] { _path, _path + "-wal", _path + "-shm" })
            File.Delete(f);
    }
}
