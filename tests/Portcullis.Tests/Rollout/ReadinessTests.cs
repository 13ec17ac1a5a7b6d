using System.Text;
using Portcullis.Core.Rollout;
using Portcullis.Core.TlsRpt;
using Portcullis.Tests.TlsRpt;

namespace Portcullis.Tests.Rollout;

/// <summary>The testing → enforce verdict on report sets built from RFC 8460's example and provider variants.</summary>
public sealed class ReadinessTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ReadinessThresholds Defaults = new(MinDays: 7, MinOrganizations: 2, MinSessions: 100, MaxFailurePercent: 1.0, MxCertificateDays: 14);

    private static TlsRptReport Parse(string json)
    {
        var (r, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(json));
        Assert.True(e is null, e);
        return r!;
    }

    private static string Sts(string domain, long ok, long failed, string details = "", string mx = "[\"mx1.example.com\"]") =>
        $$"""{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mx1.example.com","max_age: 86400"],"policy-domain":"{{domain}}","mx-host":{{mx}}},"summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":{{failed}}}{{(details.Length > 0 ? $",\"failure-details\":[{details}]" : "")}}}""";

    private static TlsRptReport Report(string org, int day, params string[] policies) => Parse($$"""
        {"organization-name":"{{org}}","date-range":{"start-datetime":"2026-11-{{day:00}}T00:00:00Z","end-datetime":"2026-11-{{day:00}}T23:59:59Z"},
         "contact-info":"mailto:tlsrpt@{{org}}","report-id":"{{org}}-{{day}}-{{Guid.NewGuid():N}}","policies":[{{string.Join(",", policies)}}]}
        """);

    /// <summary>Eight days of clean reports from three organisations (Google-, Microsoft- and Mailbox-like).</summary>
    private static List<TlsRptReport> CleanWeeks() =>
    [
        .. Enumerable.Range(20, 8).Select(d => Report("google.com", d, Sts("example.com", 40, 0))),
        .. Enumerable.Range(21, 4).Select(d => Report("Microsoft Corporation", d, Sts("example.com", 15, 0))),
        Report("mailbox.org", 27, Sts("example.com", 3, 0)),
    ];

    private static readonly MxEvidence GoodMx = new("mx1.example.com", true, Now.AddDays(60), null);

    [Fact]
    public void Clean_reports_from_enough_days_and_organisations_are_safe_and_say_so()
    {
        var evidence = ReportEvidence.Collect("example.com", CleanWeeks());
        Assert.Equal((13, 8, 3, 383L, 0L), (evidence.Reports, evidence.Days.Count, evidence.Organizations.Count, evidence.Sessions, evidence.Failed));
        var v = Readiness.Judge(evidence, [GoodMx], null, Defaults, Now);
        Assert.True(v.Safe, string.Join("; ", v.Missing.Select(i => i.Criterion + ": " + i.Detail)));
        Assert.Equal("8 day(s) with reports (2026-11-20 to 2026-11-27); need 7", v.Items.Single(i => i.Criterion == "days covered").Detail);
        Assert.Equal("3 (Microsoft Corporation, google.com, mailbox.org); need 2", v.Items.Single(i => i.Criterion == "reporting organisations").Detail);
        Assert.Contains(v.Items, i => i.Criterion == "mx1.example.com certificate" && i.Ok && i.Detail.Contains("(60 days); need 14", StringComparison.Ordinal));
    }

    [Fact]
    public void The_rfc_8460_example_fails_on_its_failure_types_and_names_the_mx_hosts()
    {
        var rfc = Parse(TlsRptParserTests.Rfc);
        var evidence = ReportEvidence.Collect("company-y.example", [rfc]);
        Assert.Equal((5326L, 303L), (evidence.Successful, evidence.Failed));
        Assert.Equal(new Dictionary<string, long> { ["certificate-expired"] = 100, ["starttls-not-supported"] = 200, ["validation-failure"] = 3 }, evidence.FailuresByType);
        // The third failure names no receiving-mx-hostname in the RFC's example.
        Assert.Equal(new Dictionary<string, long> { [ReportEvidence.UnnamedMx] = 3, ["mx1.mail.company-y.example"] = 100, ["mx2.mail.company-y.example"] = 200 }, evidence.FailuresByMx);
        var v = Readiness.Judge(evidence, [new("mx1.mail.company-y.example", true, Now.AddDays(90), null)], null, Defaults with { MinDays = 1, MinOrganizations = 1 }, Now);
        Assert.False(v.Safe);
        Assert.Equal(["failure rate certificate-expired", "failure rate starttls-not-supported", "failure rate at mx1.mail.company-y.example", "failure rate at mx2.mail.company-y.example"],
            v.Missing.Select(i => i.Criterion));
        Assert.Equal("3.553% (200 of 5629 sessions); at most 1%", v.Items.Single(i => i.Criterion == "failure rate starttls-not-supported").Detail);
        Assert.True(v.Items.Single(i => i.Criterion == "failure rate validation-failure").Ok); // 0.053 %
    }

    [Fact]
    public void Missing_optional_fields_count_failures_as_not_itemised()
    {
        // The provider variant: no policy-string, mx-host as a string, numbers as strings, no contact-info …
        var variant = Parse(TlsRptParserTests.Variant);
        // … and one with failures but no failure-details at all.
        var bare = Report("bare.example", 21, Sts("example.com", 90, 4, mx: "\"mx1.example.com\""));
        var evidence = ReportEvidence.Collect("example.com", [variant, bare]);
        Assert.Equal((2, 102L, 4L), (evidence.Reports, evidence.Successful, evidence.Failed));
        Assert.Equal(new Dictionary<string, long> { [ReportEvidence.UnspecifiedType] = 4 }, evidence.FailuresByType);
        Assert.Equal(0L, evidence.OtherPolicySessions); // sub.example.com's no-policy-found is another domain
        var v = Readiness.Judge(evidence, [GoodMx], null, Defaults with { MinDays = 2 }, Now);
        Assert.Equal(["failure rate (not itemised)", "failure rate at (no receiving-mx-hostname)"], v.Missing.Select(i => i.Criterion));
    }

    [Fact]
    public void Only_the_domains_sts_entries_count_when_a_report_has_several_policies()
    {
        // DANE and STS in one report, another domain's STS, and the domain's own no-policy-found from a second MTA.
        string tlsa = """{"policy":{"policy-type":"tlsa","policy-string":["3 1 1 AB"],"policy-domain":"example.com","mx-host":["mx1.example.com"]},"summary":{"total-successful-session-count":500,"total-failure-session-count":50},"failure-details":[{"result-type":"tlsa-invalid","receiving-mx-hostname":"mx1.example.com","failed-session-count":50}]}""";
        string npf = """{"policy":{"policy-type":"no-policy-found","policy-domain":"example.com"},"summary":{"total-successful-session-count":7,"total-failure-session-count":0}}""";
        string otherSts = Sts("other.example", 10, 10, """{"result-type":"certificate-expired","receiving-mx-hostname":"mx.other.example","failed-session-count":10}""");
        string ours = Sts("Example.COM.", 200, 1, """{"result-type":"certificate-host-mismatch","sending-mta-ip":"192.0.2.1","receiving-mx-hostname":"MX1.example.com.","receiving-ip":"198.51.100.1","failed-session-count":1}""");
        var evidence = ReportEvidence.Collect("example.com", [Report("provider.example", 22, tlsa, otherSts, ours, npf)]);
        Assert.Equal((1, 200L, 1L, 557L), (evidence.Reports, evidence.Successful, evidence.Failed, evidence.OtherPolicySessions));
        Assert.Equal(["certificate-host-mismatch"], evidence.FailuresByType.Keys);
        Assert.Equal(["mx1.example.com"], evidence.FailuresByMx.Keys);
        var v = Readiness.Judge(evidence, [GoodMx], null, Defaults with { MinDays = 1, MinOrganizations = 1 }, Now);
        Assert.True(v.Safe); // 1 of 201 = 0.498 %, and the DANE failures do not count against MTA-STS
        // A report with only other policies is no evidence for the domain at all.
        Assert.Equal(0, ReportEvidence.Collect("example.com", [Report("provider.example", 23, tlsa, npf)]).Reports);
    }

    public static TheoryData<string, MxEvidence[], string?, string[]> MxCases => new()
    {
        { "not covered", [GoodMx, new("backup.example.net", false, Now.AddDays(60), null)], null, ["backup.example.net covered"] },
        { "expires in 5 days", [new("mx1.example.com", true, Now.AddDays(5), null)], null, ["mx1.example.com certificate"] },
        { "no STARTTLS", [new("mx1.example.com", true, null, "STARTTLS not offered")], null, ["mx1.example.com certificate"] },
        { "MX lookup failed", [], "MX lookup failed: SERVFAIL", ["MX hosts"] },
        { "no MX", [], null, ["MX hosts"] },
    };

    [Theory]
    [MemberData(nameof(MxCases))]
    public void Each_live_mx_problem_blocks_the_switch_and_is_named(string why, MxEvidence[] mx, string? mxError, string[] missing)
    {
        var v = Readiness.Judge(ReportEvidence.Collect("example.com", CleanWeeks()), mx, mxError, Defaults, Now);
        Assert.False(v.Safe, why);
        Assert.Equal(missing, v.Missing.Select(i => i.Criterion));
        if (mxError is not null)
            Assert.Equal(mxError, v.Missing.Single().Detail);
    }

    [Theory]
    [InlineData(8, 3, 383, true)]
    [InlineData(9, 3, 383, false)]    // 8 days < 9
    [InlineData(8, 4, 383, false)]    // 3 organisations < 4
    [InlineData(8, 3, 384, false)]    // 383 sessions < 384
    [InlineData(0, 0, 0, true)]       // thresholds off: the clean sessions alone
    public void Thresholds_decide_exactly_at_their_bounds(int minDays, int minOrgs, long minSessions, bool safe)
    {
        var evidence = ReportEvidence.Collect("example.com", CleanWeeks());
        var v = Readiness.Judge(evidence, [GoodMx], null, Defaults with { MinDays = minDays, MinOrganizations = minOrgs, MinSessions = minSessions }, Now);
        Assert.Equal(safe, v.Safe);
    }

    [Fact]
    public void No_reports_at_all_is_never_safe()
    {
        var v = Readiness.Judge(ReportEvidence.Collect("example.com", []), [GoodMx], null, Defaults with { MinDays = 0, MinOrganizations = 0, MinSessions = 0 }, Now);
        Assert.False(v.Safe);
        Assert.Equal(["sessions"], v.Missing.Select(i => i.Criterion));
    }
}
