using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.TlsRpt;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Storage.Sessions;
using Portcullis.TlsRpt.Sending;

namespace Portcullis.Tests.TlsRpt;

/// <summary>Counting, scheduling and retrying against a real SQLite file and a fake clock; the
/// transports here record what they are given (the real SMTP and HTTPS paths are integration tests).</summary>
public sealed class ReportSenderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-send-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero));
    private readonly SessionStore _store;
    private readonly RecordingTransport _mail = new();
    private readonly RecordingTransport _https = new();
    private readonly ReportSender _sender;

    public ReportSenderTests()
    {
        _store = new SessionStore(Path.Combine(_dir, "tlsrpt.db"));
        _sender = new ReportSender(_store, new ReportPlanner(TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(24)),
            new ReporterIdentity("Org", "mailto:pm@sender.example", "mta.sender.example"),
            new Dictionary<DestinationKind, IReportTransport> { [DestinationKind.Mail] = _mail, [DestinationKind.Https] = _https },
            _time, NullLogger.Instance);
    }

    private sealed class RecordingTransport : IReportTransport
    {
        public List<(OutgoingReport Report, ReportDestination To)> Sent { get; } = [];
        public Queue<DeliveryResult> Results { get; } = new();
        public bool Throw { get; set; }

        public Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct)
        {
            Sent.Add((report, to));
            if (Throw)
                throw new InvalidOperationException("transport bug");
            return Task.FromResult(Results.TryDequeue(out var r) ? r : DeliveryResult.Ok);
        }
    }

    private Task Record(DateOnly day, params string[] datagrams) =>
        _store.RecordAsync([.. datagrams.Select(d => (day, DatagramParser.Parse(Encoding.UTF8.GetBytes(d)).Event!))], default);

    private static DateOnly Nov30 => new(2026, 11, 30);

    [Fact]
    public async Task A_day_is_reported_once_after_it_ends_with_every_session_counted()
    {
        await Record(Nov30, DatagramParserTests.StsFailure, DatagramParserTests.StsFailure, DatagramParserTests.TlsaSuccess,
            DatagramParserTests.TlsaSuccess, DatagramParserTests.TlsaSuccess);
        Assert.Empty((await _sender.RunAsync(null, default)).Generated); // the day is not over
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 0, 10, 0, TimeSpan.Zero));
        Assert.Empty((await _sender.RunAsync(null, default)).Generated); // before send_after
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 1, 15, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Single(run.Generated);
        var (report, to) = Assert.Single(_mail.Sent);
        Assert.Equal("tlsrpt@company-y.example", to.Address);
        var parsed = TlsRptParser.Parse(Encoding.UTF8.GetBytes(report.Json)).Report!;
        var sts = parsed.Policies.Single(p => p.PolicyType == "sts");
        var tlsa = parsed.Policies.Single(p => p.PolicyType == "tlsa");
        Assert.Equal((0L, 2L), (sts.Successful, sts.Failed));
        Assert.Equal([("sts-policy-invalid", 2L), ("sts-webpki-invalid", 2L)], sts.Failures.Select(f => (f.ResultType, f.FailedSessions)).Order());
        Assert.Equal((3L, 0L), (tlsa.Successful, tlsa.Failed));
        Assert.StartsWith("mta.sender.example!company-y.example!", report.FileName, StringComparison.Ordinal);
        Assert.Matches(ReportDocumentTests.Rfc8460FileName, report.FileName); // the generated id, not a hand-made one
        // Nothing more: the report exists, the delivery is done.
        _time.Advance(TimeSpan.FromHours(2));
        var again = await _sender.RunAsync(null, default);
        Assert.Empty(again.Generated);
        Assert.Single(_mail.Sent);
    }

    [Fact]
    public async Task Days_without_sessions_send_nothing()
    {
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Empty(run.Generated);
        Assert.Empty(_mail.Sent);
        Assert.Empty(_https.Sent);
    }

    [Fact]
    public async Task Each_domain_and_destination_gets_its_own_report_and_delivery()
    {
        await Record(Nov30, DatagramParserTests.StsFailure, DatagramParserTests.NoPolicyFailure);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Equal(2, run.Generated.Count);
        Assert.Equal("company-y.example", Assert.Single(_mail.Sent).Report.Domain);
        var (r, to) = Assert.Single(_https.Sent);
        Assert.Equal(("other.example", "https://reports.other.example/tlsrpt"), (r.Domain, to.Address));
    }

    [Fact]
    public async Task Failed_deliveries_are_retried_with_back_off_then_given_up()
    {
        await Record(Nov30, DatagramParserTests.NoPolicyFailure);
        for (int i = 0; i < 100; i++)
            _https.Results.Enqueue(DeliveryResult.Retry("HTTP 503"));
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        await _sender.RunAsync(null, default);
        Assert.Single(_https.Sent);
        _time.Advance(TimeSpan.FromMinutes(4));
        await _sender.RunAsync(null, default);
        Assert.Single(_https.Sent); // not yet: the first retry is 5 minutes later
        _time.Advance(TimeSpan.FromMinutes(1));
        await _sender.RunAsync(null, default);
        Assert.Equal(2, _https.Sent.Count);
        for (int i = 0; i < 30 * 24; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(2));
            await _sender.RunAsync(null, default);
        }
        // 5, 10, 20, 40, 80, 160 min, then every 4 h until 24 h after the first attempt.
        Assert.InRange(_https.Sent.Count, 9, 12);
        var row = Assert.Single((await _store.DeliveriesAsync(Nov30, default)));
        Assert.Equal("failed", row.Status);
        Assert.Equal("HTTP 503", row.LastError);
    }

    [Fact]
    public async Task A_transport_that_throws_costs_one_attempt_and_nothing_else()
    {
        await Record(Nov30, DatagramParserTests.NoPolicyFailure, DatagramParserTests.StsFailure);
        _https.Throw = true;
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Single(run.Delivered); // the mail one
        Assert.Contains("InvalidOperationException: transport bug (retry at", Assert.Single(run.Failed), StringComparison.Ordinal);
        Assert.Contains((await _store.DeliveriesAsync(Nov30, default)), r => r.Status == "pending" && r.LastError == "InvalidOperationException: transport bug");
    }

    [Fact]
    public async Task A_delivery_leased_by_another_run_is_left_to_it_until_the_lease_ends()
    {
        await Record(Nov30, DatagramParserTests.StsFailure);
        _mail.Results.Enqueue(DeliveryResult.Retry("421 try later"));
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        await _sender.RunAsync(null, default); // generated, first attempt fails: retry in 5 minutes
        Assert.Single(_mail.Sent);
        _time.Advance(TimeSpan.FromMinutes(5));
        // Another run (the CLI, or a second daemon on the same file) takes the due delivery first.
        var pending = Assert.Single((await _store.DueDeliveriesAsync(_time.GetUtcNow(), default)));
        Assert.True(await _store.TryClaimAsync(pending, _time.GetUtcNow(), TimeSpan.FromMinutes(10), default));
        Assert.False(await _store.TryClaimAsync(pending, _time.GetUtcNow(), TimeSpan.FromMinutes(10), default)); // only one can hold it
        await _sender.RunAsync(null, default);
        Assert.Single(_mail.Sent); // not sent twice
        _time.Advance(TimeSpan.FromMinutes(10)); // the other run never finished: its lease ends
        await _sender.RunAsync(null, default);
        Assert.Equal(2, _mail.Sent.Count);
        Assert.Equal("sent", Assert.Single((await _store.DeliveriesAsync(Nov30, default))).Status);
    }

    [Fact]
    public async Task A_permanent_rejection_is_not_retried()
    {
        await Record(Nov30, DatagramParserTests.StsFailure);
        _mail.Results.Enqueue(DeliveryResult.GiveUp("SMTP said 550 no such user"));
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Single(run.Failed);
        _time.Advance(TimeSpan.FromHours(1));
        await _sender.RunAsync(null, default);
        Assert.Single(_mail.Sent);
        Assert.Equal("failed", Assert.Single((await _store.DeliveriesAsync(Nov30, default))).Status);
    }

    [Fact]
    public async Task Forcing_today_reports_now_and_later_sessions_of_that_day_are_not_sent_twice()
    {
        await Record(Nov30, DatagramParserTests.TlsaSuccess);
        var run = await _sender.RunAsync(Nov30, default);
        Assert.Single(run.Generated);
        await Record(Nov30, DatagramParserTests.TlsaSuccess);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        Assert.Empty((await _sender.RunAsync(null, default)).Generated);
        Assert.Single(_mail.Sent);
    }

    [Fact]
    public async Task A_domain_whose_record_has_no_usable_rua_is_recorded_but_not_sent()
    {
        await Record(Nov30, DatagramParserTests.TlsaSuccess.Replace("rua=mailto:tlsrpt@company-y.example", "rua=http://insecure.example/", StringComparison.Ordinal));
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        var run = await _sender.RunAsync(null, default);
        Assert.Single(run.Generated);
        Assert.Empty(_mail.Sent);
        Assert.StartsWith("not sent: rua entry 'http://insecure.example/'", Assert.Single((await _store.DeliveriesAsync(Nov30, default))).Status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counts_survive_reopening_the_database()
    {
        await Record(Nov30, DatagramParserTests.TlsaSuccess, DatagramParserTests.TlsaSuccess);
        _store.Dispose();
        using var reopened = new SessionStore(Path.Combine(_dir, "tlsrpt.db"));
        Assert.Equal(2, Assert.Single((await reopened.TalliesAsync(Nov30, "company-y.example", default))).Successful);
    }

    [Fact]
    public async Task Old_days_are_pruned()
    {
        await Record(Nov30, DatagramParserTests.TlsaSuccess);
        Assert.True(await _store.PruneAsync(Nov30.AddDays(1), default) > 0);
        Assert.Empty(await _store.TalliesAsync(Nov30, "company-y.example", default));
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, true);
    }
}
