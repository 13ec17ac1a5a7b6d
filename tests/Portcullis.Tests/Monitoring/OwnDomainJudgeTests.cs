using Portcullis.Core.Checking;
using Portcullis.Core.Monitoring;

namespace Portcullis.Tests.Monitoring;

public sealed class OwnDomainJudgeTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static CheckItem Item(CheckKind kind, CheckStatus status) => new("A", "t", status, "d") { Kind = kind };

    private static OwnDomainStatus Status(IReadOnlyList<CheckItem> items, DateOnly? lastReport = null, params HostCertificate[] mx) =>
        new("a.test", Now, TimeSpan.Zero, OwnDomainJudge.Summarise(items), items, mx, null, null, lastReport);

    [Fact]
    public void Each_check_takes_its_worst_finding_and_checks_without_findings_pass()
    {
        var s = OwnDomainJudge.Summarise([Item(CheckKind.Certificate, CheckStatus.Pass), Item(CheckKind.Certificate, CheckStatus.Fail),
            Item(CheckKind.Certificate, CheckStatus.Warn), Item(CheckKind.Tlsa, CheckStatus.Warn), Item(CheckKind.Mx, CheckStatus.Info)]);
        Assert.Equal(CheckStatus.Fail, s[CheckKind.Certificate]);
        Assert.Equal(CheckStatus.Warn, s[CheckKind.Tlsa]);
        Assert.Equal(CheckStatus.Info, s[CheckKind.Mx]);
        Assert.Equal(CheckStatus.Pass, s[CheckKind.StartTls]);
        Assert.Equal(Enum.GetValues<CheckKind>().Length, s.Count);
    }

    [Fact]
    public void Labels_are_a_fixed_set_of_distinct_metric_friendly_names()
    {
        var labels = OwnDomainJudge.AllChecks.Select(OwnDomainJudge.Label).ToList();
        Assert.Equal(labels.Count, labels.Distinct().Count());
        Assert.All(labels, l => Assert.Matches("^[a-z_]+$", l));
    }

    [Fact]
    public void Only_checks_that_start_or_stop_failing_are_changes()
    {
        var ok = Status([]);
        var warn = Status([Item(CheckKind.Tlsa, CheckStatus.Warn)]);
        var fail = Status([Item(CheckKind.Tlsa, CheckStatus.Fail)]);
        Assert.Empty(OwnDomainJudge.Changes(null, ok));
        Assert.Empty(OwnDomainJudge.Changes(ok, warn)); // a warning is no failure
        var down = Assert.Single(OwnDomainJudge.Changes(warn, fail));
        Assert.Equal((CheckKind.Tlsa, true, "t: d"), (down.Check, down.Failing, down.Detail));
        Assert.Empty(OwnDomainJudge.Changes(fail, fail));
        var up = Assert.Single(OwnDomainJudge.Changes(fail, ok));
        Assert.False(up.Failing);
        Assert.Single(OwnDomainJudge.Changes(null, fail));
    }

    [Fact]
    public void Certificate_days_are_the_soonest_expiry_and_report_age_counts_from_the_end_of_the_reported_day()
    {
        var s = Status([], new DateOnly(2026, 3, 8),
            new HostCertificate("mx1.a.test", "192.0.2.1", Now.AddDays(40)), new HostCertificate("mx2.a.test", "192.0.2.2", Now.AddDays(6.5)));
        Assert.Equal(6.5, s.MxCertificateDaysLeft(Now));
        Assert.Null(s.PolicyHostCertificateDaysLeft(Now));
        Assert.Equal(1.5, s.DaysSinceTlsRptReport(Now)); // the day 2026-03-08 ended at 03-09 00:00
        Assert.Null(Status([]).DaysSinceTlsRptReport(Now));
        Assert.Null(Status([]).MxCertificateDaysLeft(Now));
    }

    [Theory]
    [InlineData(30, CheckStatus.Pass)]
    [InlineData(13.9, CheckStatus.Warn)]
    [InlineData(-0.1, CheckStatus.Fail)]
    public void Certificate_expiry_is_judged_as_check_does(double days, CheckStatus expected) =>
        Assert.Equal(expected, CertificateExpiry.Judge(Now.AddDays(days), Now));
}

public sealed class TlsRptRecordJudgeTests
{
    [Theory]
    [InlineData(null, new[] { "v=TLSRPTv1; rua=mailto:r@a.test" }, CheckStatus.Pass, "reports go to mailto:r@a.test")]
    [InlineData(null, new[] { "v=spf1 -all" }, CheckStatus.Warn, "no TLS-RPT record: you will not hear about delivery failures")]
    [InlineData(null, new[] { "v=TLSRPTv1; rua=http://x.test/" }, CheckStatus.Fail, "rua entry 'http://x.test/' is not a mailto: or https: URI")]
    [InlineData("SERVFAIL", new string[0], CheckStatus.Fail, "SERVFAIL")]
    public void The_tls_rpt_finding_belongs_to_its_check(string? error, string[] records, CheckStatus status, string detail)
    {
        var item = TlsRptRecord.Judge("a.test", error, records);
        Assert.Equal((CheckKind.TlsRptRecord, "TLS-RPT", "_smtp._tls record", status, detail), (item.Kind, item.Area, item.Title, item.Status, item.Detail));
        Assert.Equal(status == CheckStatus.Warn, item.Fix?.Contains("_smtp._tls.a.test", StringComparison.Ordinal) ?? false);
    }
}
