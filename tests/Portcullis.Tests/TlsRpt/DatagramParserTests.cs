using System.Text;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Tests.TlsRpt;

/// <summary>The libtlsrpt datagram, byte for byte as the library prints it (note its `"d": "…"`
/// spacing), for the examples of libtlsrpt's doc/example.txt, and malformed variants.</summary>
public sealed class DatagramParserTests
{
    public const string StsFailure =
        """{"d": "company-y.example","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@company-y.example","policies":[{"policy-type":2,"policy-domain": "company-y.example","policy-string":["version: STSv1","mode: testing","mx: *.mail.company-y.example","max_age: 86400"],"mx-host":["*.mail.company-y.example","*.mail2.company-y.example"],"failure-details":[{"c":302,"s": "1.2.3.4","n": "mailin.example.com","h": "test-ehlo.example.com","r": "11.22.33.44","a": "This is additional information","f": "999 TEST ERROR"},{"c":303,"s": "1.2.3.5","n": "mailin.example.com","h": "test-ehlo.example.com","r": "11.22.33.55","a": "This is additional information","f": "999 TEST ERROR"}],"t":2,"f":1}]}""";

    public const string TlsaSuccess =
        """{"d": "company-y.example","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@company-y.example","policies":[{"policy-type":1,"policy-domain": "company-y.example","policy-string":["3 0 1 1F850A337E6DB9C609C522D136A475638CC43E1ED424F8EEC8513D747D1D085D"],"t":0,"f":0}]}""";

    public const string NoPolicyFailure =
        """{"d": "other.example","pr": "v=TLSRPTv1; rua=https://reports.other.example/tlsrpt","policies":[{"policy-type":9,"failure-details":[{"c":205,"s": "192.168.25.25","r": "11.22.33.55","a": "Something unexpected happened"}],"t":1,"f":1}]}""";

    [Fact]
    public void Sts_failure_with_two_details()
    {
        var (e, error) = DatagramParser.Parse(Encoding.UTF8.GetBytes(StsFailure));
        Assert.Null(error);
        Assert.Equal("company-y.example", e!.Domain);
        Assert.Equal("v=TLSRPTv1; rua=mailto:tlsrpt@company-y.example", e.PolicyRecord);
        var p = Assert.Single(e.Policies);
        Assert.Equal(("sts", "company-y.example", true), (p.PolicyType, p.PolicyDomain, p.Failed));
        Assert.Equal(4, p.PolicyStrings.Count);
        Assert.Equal(["*.mail.company-y.example", "*.mail2.company-y.example"], p.MxHosts);
        Assert.Equal(["sts-policy-invalid", "sts-webpki-invalid"], p.Failures.Select(f => f.ResultType));
        var f = p.Failures[0];
        Assert.Equal(("1.2.3.4", "mailin.example.com", "test-ehlo.example.com", "11.22.33.44", "This is additional information", "999 TEST ERROR"),
            (f.SendingMtaIp, f.ReceivingMxHostname, f.ReceivingMxHelo, f.ReceivingIp, f.AdditionalInformation, f.FailureReasonCode));
    }

    [Fact]
    public void No_policy_found_without_policy_domain_means_the_delivery_domain()
    {
        var p = Assert.Single(DatagramParser.Parse(Encoding.UTF8.GetBytes(NoPolicyFailure)).Event!.Policies);
        Assert.Equal(("no-policy-found", "other.example"), (p.PolicyType, p.PolicyDomain));
        Assert.Equal("validation-failure", Assert.Single(p.Failures).ResultType);
        Assert.Null(p.Failures[0].ReceivingMxHostname);
    }

    [Fact]
    public void Two_policies_success_and_failure_and_dpv_1()
    {
        string both = """{"dpv":"1","d":"Company-Y.Example.","pr":"v=TLSRPTv1; rua=mailto:r@y.example","policies":[{"policy-type":2,"policy-domain":"company-y.example","policy-string":["version: STSv1"],"failure-details":[{"c":204}],"t":1,"f":1},{"policy-type":1,"policy-domain":"company-y.example","policy-string":["3 1 1 AB"],"t":0,"f":0}]}""";
        var (e, error) = DatagramParser.Parse(Encoding.UTF8.GetBytes(both));
        Assert.Null(error);
        Assert.Equal("company-y.example", e!.Domain);
        Assert.Equal([true, false], e.Policies.Select(p => p.Failed));
        Assert.Equal("certificate-expired", e.Policies[0].Failures[0].ResultType);
    }

    [Fact]
    public void Details_of_a_session_that_finished_successfully_are_not_counted()
    {
        string odd = """{"d":"x.example","policies":[{"policy-type":2,"policy-domain":"x.example","failure-details":[{"c":202}],"t":1,"f":0}]}""";
        var p = Assert.Single(DatagramParser.Parse(Encoding.UTF8.GetBytes(odd)).Event!.Policies);
        Assert.False(p.Failed);
        Assert.Empty(p.Failures);
    }

    [Fact]
    public void Older_library_without_pr_is_accepted_with_an_empty_record()
    {
        var e = DatagramParser.Parse(Encoding.UTF8.GetBytes(TlsaSuccess.Replace("\"pr\": \"v=TLSRPTv1; rua=mailto:tlsrpt@company-y.example\",", "", StringComparison.Ordinal))).Event;
        Assert.Equal("", e!.PolicyRecord);
        Assert.Equal("tlsa", e.Policies[0].PolicyType);
    }

    [Theory]
    [InlineData("", "not JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("""{"dpv":"2","d":"x.example","policies":[{"policy-type":9,"t":0,"f":0}]}""", "protocol version")]
    [InlineData("""{"dpv":1,"d":"x.example","policies":[{"policy-type":9,"t":0,"f":0}]}""", "protocol version")]
    [InlineData("""{"policies":[{"policy-type":9,"t":0,"f":0}]}""", "delivery domain")]
    [InlineData("""{"d":"bad domain!","policies":[{"policy-type":9,"t":0,"f":0}]}""", "delivery domain")]
    [InlineData("""{"d":"x.example"}""", "policies")]
    [InlineData("""{"d":"x.example","policies":[]}""", "policies")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":3,"t":0,"f":0}]}""", "policy-type")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":"2","t":0,"f":0}]}""", "policy-type")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":2,"t":0}]}""", "final result")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":2,"t":0,"f":2}]}""", "final result")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":2,"failure-details":[{"s":"1.2.3.4"}],"t":1,"f":1}]}""", "code")]
    [InlineData("""{"d":"x.example","policies":[{"policy-type":2,"failure-details":{"c":201},"t":1,"f":1}]}""", "failure-details")]
    [InlineData("""{"d":"x.example","policies":[7]}""", "not an object")]
    public void Malformed_datagrams_are_refused_with_a_reason(string datagram, string reason)
    {
        var (e, error) = DatagramParser.Parse(Encoding.UTF8.GetBytes(datagram));
        Assert.Null(e);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_datagram_is_refused()
    {
        var big = Encoding.UTF8.GetBytes(StsFailure.Replace("This is additional information", new string('a', 70_000), StringComparison.Ordinal));
        Assert.Contains("exceeds", DatagramParser.Parse(big).Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(201, "starttls-not-supported")]
    [InlineData(202, "certificate-host-mismatch")]
    [InlineData(203, "certificate-not-trusted")]
    [InlineData(204, "certificate-expired")]
    [InlineData(205, "validation-failure")]
    [InlineData(301, "sts-policy-fetch-error")]
    [InlineData(302, "sts-policy-invalid")]
    [InlineData(303, "sts-webpki-invalid")]
    [InlineData(304, "tlsa-invalid")]
    [InlineData(305, "dnssec-invalid")]
    [InlineData(306, "dane-required")]
    [InlineData(901, "validation-failure")]
    public void Failure_codes_map_to_rfc_8460_result_types(int code, string type) => Assert.Equal(type, ResultTypes.FromCode(code));
}
