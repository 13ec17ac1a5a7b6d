using System.Text;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Tests.TlsRpt;

/// <summary>Realistic report shapes (RFC 8460 §4.5 example; the variations large senders are known for) and broken ones.</summary>
public sealed class TlsRptParserTests
{
    public const string Rfc = """
        {
          "organization-name": "Company-X",
          "date-range": { "start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z" },
          "contact-info": "sts-reporting@company-x.example",
          "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
          "policies": [{
            "policy": { "policy-type": "sts", "policy-string": ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"],
                        "policy-domain": "company-y.example", "mx-host": ["*.mail.company-y.example"] },
            "summary": { "total-successful-session-count": 5326, "total-failure-session-count": 303 },
            "failure-details": [
              { "result-type": "certificate-expired", "sending-mta-ip": "2001:db8:abcd:0012::1", "receiving-mx-hostname": "mx1.mail.company-y.example", "failed-session-count": 100 },
              { "result-type": "starttls-not-supported", "sending-mta-ip": "2001:db8:abcd:0013::1", "receiving-mx-hostname": "mx2.mail.company-y.example",
                "receiving-ip": "203.0.113.56", "failed-session-count": 200, "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported" },
              { "result-type": "validation-failure", "sending-mta-ip": "198.51.100.62", "receiving-ip": "203.0.113.58", "failed-session-count": 3, "failure-error-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED" }
            ]
          }]
        }
        """;

    // mx-host as a plain string, numbers as strings, time with an offset: seen from large senders.
    public const string Variant = """
        {"organization-name":"Big Mail Inc.","date-range":{"start-datetime":"2026-11-20T00:00:00+00:00","end-datetime":"2026-11-20T23:59:59Z"},
         "contact-info":null,"report-id":"2026-11-20T00:00:00Z_example.com",
         "policies":[{"policy":{"policy-type":"STS","policy-domain":"Example.COM.","mx-host":"mx.example.com"},
                      "summary":{"total-successful-session-count":"12","total-failure-session-count":0}},
                     {"policy":{"policy-type":"no-policy-found","policy-domain":"sub.example.com"},
                      "summary":{"total-successful-session-count":3,"total-failure-session-count":1},
                      "failure-details":[{"result-type":"starttls-not-supported","failed-session-count":1}]}]}
        """;

    // DANE report: tlsa policy strings, receiving-mx-helo, failure-reason-code, milliseconds in the
    // date range, unknown fields (ignored), and a mailto: contact.
    public const string Dane = """
        {"organization-name":"Mail Provider B.V.","date-range":{"start-datetime":"2026-11-21T00:00:00.000Z","end-datetime":"2026-11-21T23:59:59.999Z"},
         "contact-info":"mailto:tlsrpt-noreply@provider.example","report-id":"<20261121.dane@provider.example>","x-provider-build":"7.1",
         "policies":[{"policy":{"policy-type":"tlsa","policy-string":["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6","2 1 1 8D02536C887482BC34FF54E41D2BA659BF85B341A0A20AFADB5813DCFBCF286D"],
                      "policy-domain":"dane.example","mx-host":["mx1.dane.example","mx2.dane.example"]},
                      "summary":{"total-successful-session-count":812,"total-failure-session-count":2},
                      "failure-details":[{"result-type":"tlsa-invalid","sending-mta-ip":"203.0.113.9","receiving-mx-hostname":"mx2.dane.example",
                        "receiving-mx-helo":"mx2.dane.example","receiving-ip":"198.51.100.20","failed-session-count":2,"failure-reason-code":"no TLSA record matched"}]}]}
        """;

    [Fact]
    public void Dane_report_with_helo_reason_code_and_unknown_fields()
    {
        var (r, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(Dane));
        Assert.Null(e);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), r!.Start);
        var p = Assert.Single(r.Policies);
        Assert.Equal(("tlsa", "dane.example", 812L, 2L), (p.PolicyType, p.PolicyDomain, p.Successful, p.Failed));
        Assert.Equal(2, p.PolicyStrings.Count);
        Assert.Equal(["mx1.dane.example", "mx2.dane.example"], p.MxHosts);
        var f = Assert.Single(p.Failures);
        Assert.Equal(("tlsa-invalid", "203.0.113.9", "198.51.100.20", 2L, "no TLSA record matched"),
            (f.ResultType, f.SendingMtaIp, f.ReceivingIp, f.FailedSessions, f.FailureReasonCode));
    }

    [Fact]
    public void Rfc_example_parses_completely()
    {
        var (r, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(Rfc));
        Assert.Null(e);
        Assert.Equal("Company-X", r!.OrganizationName);
        var p = Assert.Single(r.Policies);
        Assert.Equal(("sts", "company-y.example", 5326L, 303L), (p.PolicyType, p.PolicyDomain, p.Successful, p.Failed));
        Assert.Equal(4, p.PolicyStrings.Count);
        Assert.Equal(["*.mail.company-y.example"], p.MxHosts);
        Assert.Equal([100L, 200L, 3L], p.Failures.Select(f => f.FailedSessions));
        Assert.Equal("203.0.113.56", p.Failures[1].ReceivingIp);
    }

    [Fact]
    public void Known_variations_are_tolerated()
    {
        var (r, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(Variant));
        Assert.Null(e);
        Assert.Null(r!.ContactInfo);
        Assert.Equal(["mx.example.com"], r.Policies[0].MxHosts);
        Assert.Equal(("sts", "example.com", 12L), (r.Policies[0].PolicyType, r.Policies[0].PolicyDomain, r.Policies[0].Successful));
        Assert.Empty(r.Policies[0].PolicyStrings);
        Assert.Equal("no-policy-found", r.Policies[1].PolicyType);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("""{"date-range":{},"report-id":"x","policies":[]}""", "organization-name")]
    [InlineData("""{"organization-name":"o","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-02T00:00:00Z"},"policies":[]}""", "report-id")]
    [InlineData("""{"organization-name":"o","report-id":"r","date-range":{"start-datetime":"yesterday"},"policies":[]}""", "date-range")]
    [InlineData("""{"organization-name":"o","report-id":"r","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-02T00:00:00Z"}}""", "policies")]
    [InlineData("""{"organization-name":"o","report-id":"r","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-02T00:00:00Z"},"policies":[{"policy":{"policy-type":"dane","policy-domain":"x"},"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}]}""", "policy-type")]
    [InlineData("""{"organization-name":"o","report-id":"r","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-02T00:00:00Z"},"policies":[{"policy":{"policy-type":"sts","policy-domain":"x"}}]}""", "summary")]
    [InlineData("""{"organization-name":"o","report-id":"r","date-range":{"start-datetime":"2026-01-01T00:00:00Z","end-datetime":"2026-01-02T00:00:00Z"},"policies":[{"policy":{"policy-type":"sts","policy-domain":"x"},"summary":{"total-successful-session-count":1,"total-failure-session-count":1},"failure-details":[{"failed-session-count":1}]}]}""", "result-type")]
    public void Broken_reports_are_refused_with_a_reason(string json, string reason)
    {
        var (r, e) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Null(r);
        Assert.Contains(reason, e);
    }

    [Fact]
    public void Summary_groups_by_domain_type_and_day()
    {
        var reports = new[] { TlsRptParser.Parse(Encoding.UTF8.GetBytes(Rfc)).Report!, TlsRptParser.Parse(Encoding.UTF8.GetBytes(Variant)).Report! };
        var rows = TlsRptSummary.Build(reports, null);
        Assert.Equal(3, rows.Count);
        var y = rows.Single(r => r.PolicyDomain == "company-y.example");
        Assert.Equal((new DateOnly(2016, 4, 1), 5326L, 303L), (y.Day, y.Successful, y.Failed));
        Assert.Equal("starttls-not-supported", y.Failures[0].ResultType);
        Assert.Equal(["2001:db8:abcd:0013::1"], y.Failures[0].SendingIps);
        Assert.Single(TlsRptSummary.Build(reports, "example.com"));
    }
}
