using System.Globalization;
using System.Text;
using Portcullis.Core.TlsRpt;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Storage.Reports;
using Portcullis.TlsRpt;

namespace Portcullis.Tests.TlsRpt;

/// <summary>Issue 11: absurd reports are refused at parse time; the store aggregates at insert time, saturates, keeps a quota.</summary>
public sealed class ReportBoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-rstore-").FullName;

    private static string Report(string id, string ok = "5", int policies = 1, string day = "2026-11-20", string rt = "certificate-expired",
        string ip = "192.0.2.7") =>
        $$"""{"organization-name":"Org {{id}}","date-range":{"start-datetime":"{{day}}T00:00:00Z","end-datetime":"{{day}}T23:59:59Z"},"report-id":"{{id}}","policies":[{{string.Join(",", Enumerable.Range(0, policies).Select(p =>
            $$"""{"policy":{"policy-type":"sts","policy-domain":"d{{p}}.example"},"summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":3},"failure-details":[{"result-type":"{{rt}}","sending-mta-ip":"{{ip}}","failed-session-count":3}]}"""))}}]}""";

    private static TlsRptReport Parse(string json) => TlsRptParser.Parse(Encoding.UTF8.GetBytes(json)).Report!;

    [Theory]
    [InlineData("9223372036854775807", "policies[0]: session count 9223372036854775807 is above 1000000000000")]
    [InlineData("1000000000001", "policies[0]: session count 1000000000001 is above 1000000000000")]
    [InlineData("\"99999999999999999999\"", "policies[0]: missing summary counts")] // does not fit a long at all
    public void Counts_above_the_bound_make_the_report_invalid(string count, string error)
    {
        var (report, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(Report("x", count)));
        Assert.Null(report);
        Assert.Equal(error, e);
    }

    [Fact]
    public void The_largest_count_and_the_policy_and_token_bounds()
    {
        Assert.Equal(TlsRptParser.MaxSessionCount, Parse(Report("x", "1000000000000")).Policies[0].Successful);
        Assert.NotNull(Parse(Report("x", policies: TlsRptParser.MaxPolicies)));
        Assert.Equal("more than 100 policies in one report", TlsRptParser.Parse(Encoding.UTF8.GetBytes(Report("x", policies: 101))).Error);
        string many = "{\"a\":[" + string.Join(",", Enumerable.Repeat("1", TlsRptParser.MaxJsonTokens)) + "]}";
        Assert.Equal("more than 300000 JSON values in one report", TlsRptParser.Parse(Encoding.UTF8.GetBytes(many)).Error);
    }

    [Theory]
    [InlineData("certificate-expired", "certificate-expired")]
    [InlineData("dane-required", "dane-required")]
    [InlineData("x-attacker-chosen-1234", "other")]
    [InlineData("CERTIFICATE-EXPIRED", "other")]
    public void Metric_labels_of_result_types_come_from_the_fixed_set(string resultType, string label) =>
        Assert.Equal(label, ResultTypes.Label(resultType));

    [Fact]
    public async Task Summaries_come_from_rows_aggregated_at_insert_and_are_bounded()
    {
        using var store = new SqliteReportStore(Path.Combine(_dir, "r.db"), 1L << 30);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(StoreResult.Stored, store.Add(Parse(Report("a", "1000000000000")), ReportInput.Gzip("{}"u8), now));
        Assert.Equal(StoreResult.Stored, store.Add(Parse(Report("b", "1000000000000", ip: "192.0.2.8")), ReportInput.Gzip("{}"u8), now));
        Assert.Equal(StoreResult.Duplicate, store.Add(Parse(Report("b")), ReportInput.Gzip("{}"u8), now));
        Assert.Equal(StoreResult.Stored, store.Add(Parse(Report("c", policies: 3, day: "2026-11-21")), ReportInput.Gzip("{}"u8), now));
        var page = await store.SummaryAsync(new DateOnly(2026, 11, 1), null, 10, default);
        Assert.False(page.Truncated);
        var row = page.Rows.Single(r => r.PolicyDomain == "d0.example" && r.Day == new DateOnly(2026, 11, 20));
        Assert.Equal((2_000_000_000_000L, 6L), (row.Successful, row.Failed));
        Assert.Equal(("certificate-expired", 6L), (row.Failures[0].ResultType, row.Failures[0].Sessions));
        Assert.Equal(["192.0.2.7", "192.0.2.8"], row.Failures[0].SendingIps);
        Assert.Equal(["Org a", "Org b"], row.Reporters);
        Assert.Equal([new SummaryDay(new DateOnly(2026, 11, 20), 2_000_000_000_000, 6), new SummaryDay(new DateOnly(2026, 11, 21), 15, 9)], page.Days);
        var bounded = await store.SummaryAsync(new DateOnly(2026, 11, 1), null, 2, default);
        Assert.True(bounded.Truncated);
        Assert.Equal(2, bounded.Rows.Count);
        Assert.Single((await store.SummaryAsync(new DateOnly(2026, 11, 21), "d2.example", 10, default)).Rows);
    }

    [Fact]
    public async Task Sums_saturate_instead_of_overflowing()
    {
        using var store = new SqliteReportStore(Path.Combine(_dir, "s.db"), 1L << 30);
        // 10^12 per policy, 100 policies for one domain (same name), 100 000 reports would overflow; sums are capped instead.
        for (int i = 0; i < 3; i++)
        {
            var r = Parse(Report($"s{i}", "1000000000000"));
            var big = r with { Policies = [r.Policies[0] with { Successful = long.MaxValue / 2 }] }; // beyond the parser's bound: the store's own guard
            Assert.Equal(StoreResult.Stored, store.Add(big, ReportInput.Gzip("{}"u8), DateTimeOffset.UtcNow));
        }
        var row = Assert.Single((await store.SummaryAsync(new DateOnly(2026, 11, 1), null, 10, default)).Rows);
        Assert.Equal(9_000_000_000_000_000_000, row.Successful);
        Assert.Equal(9_000_000_000_000_000_000, Assert.Single((await store.SummaryAsync(new DateOnly(2026, 11, 1), null, 10, default)).Days).Successful);
    }

    [Fact]
    public async Task A_store_over_its_quota_refuses_new_reports_but_still_answers_duplicates()
    {
        using var store = new SqliteReportStore(Path.Combine(_dir, "q.db"), 200 * 1024);
        int stored = 0;
        StoreResult result;
        while ((result = store.Add(Parse(Report($"q{stored}", policies: 50)), new byte[4096], DateTimeOffset.UtcNow)) == StoreResult.Stored)
            stored++;
        Assert.Equal(StoreResult.OverQuota, result);
        Assert.InRange(stored, 1, 100);
        Assert.Equal(StoreResult.Duplicate, store.Add(Parse(Report("q0")), new byte[10], DateTimeOffset.UtcNow));
        Assert.Equal(50, (await store.SummaryAsync(new DateOnly(2026, 11, 1), null, 10_000, default)).Rows.Count); // the same 50 domains each time
    }

    [Fact]
    public void The_intake_admits_workers_plus_queue_and_no_more()
    {
        using var intake = new ReportIntake(1, 2, 1024);
        Assert.True(intake.TryEnter() && intake.TryEnter() && intake.TryEnter());
        Assert.False(intake.TryEnter());
        intake.Leave();
        Assert.True(intake.TryEnter());
    }

    [Fact]
    public async Task The_intake_runs_work_on_a_worker_with_its_buffer()
    {
        using var intake = new ReportIntake(1, 0, 1024);
        var (outcome, detail) = await intake.RunAsync(scratch => (ReceiveOutcome.Stored, scratch.Length.ToString(CultureInfo.InvariantCulture)), CancellationToken.None);
        Assert.Equal((ReceiveOutcome.Stored, (ReportInput.MaxReportBytes + 1).ToString(CultureInfo.InvariantCulture)), (outcome, detail));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }
}
