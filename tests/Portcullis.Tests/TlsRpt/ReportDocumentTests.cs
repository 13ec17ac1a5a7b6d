using System.IO.Compression;
using System.Text;
using Portcullis.Core.TlsRpt;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Tests.TlsRpt;

public sealed class ReportDocumentTests
{
    private static readonly ReporterIdentity Who = new("Example Sender Org", "mailto:postmaster@sender.example", "mail.sender.example");

    private static PolicyTally Sts(long ok, long failed, params (string Type, string Ip, long N)[] failures) => new(
        new SessionPolicy("sts", "company-y.example", ["version: STSv1", "mode: enforce", "mx: *.mail.company-y.example", "max_age: 86400"],
            ["*.mail.company-y.example"], false, []),
        ok, failed, [.. failures.Select(f => (new SessionFailure(f.Type, f.Ip, "mx1.mail.company-y.example", null, "192.0.2.25", null, "X509_V_ERR"), f.N))]);

    [Fact]
    public void Generated_report_parses_back_with_the_same_counts()
    {
        var day = new DateOnly(2026, 11, 30);
        string json = ReportDocument.Json(day, "20261130.abc.company-y.example@mail.sender.example", Who,
            [Sts(95, 5, ("certificate-expired", "198.51.100.7", 4), ("starttls-not-supported", "198.51.100.8", 1)),
             new PolicyTally(new SessionPolicy("no-policy-found", "company-y.example", [], [], false, []), 3, 0, [])]);
        var (report, error) = TlsRptParser.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Null(error);
        Assert.Equal(("Example Sender Org", "mailto:postmaster@sender.example"), (report!.OrganizationName, report.ContactInfo));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero), report.Start);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 23, 59, 59, TimeSpan.Zero), report.End);
        Assert.Equal(2, report.Policies.Count);
        var sts = report.Policies[0];
        Assert.Equal(("sts", 95L, 5L), (sts.PolicyType, sts.Successful, sts.Failed));
        Assert.Equal(["*.mail.company-y.example"], sts.MxHosts);
        Assert.Equal([("certificate-expired", 4L, "198.51.100.7"), ("starttls-not-supported", 1L, "198.51.100.8")],
            sts.Failures.Select(f => (f.ResultType, f.FailedSessions, f.SendingMtaIp!)));
        Assert.Equal("mx1.mail.company-y.example", sts.Failures[0].ReceivingMxHostname);
        Assert.Equal(("no-policy-found", 3L), (report.Policies[1].PolicyType, report.Policies[1].Successful));
    }

    [Fact]
    public void Mx_host_is_an_array_and_absent_optional_fields_are_left_out()
    {
        string json = ReportDocument.Json(new DateOnly(2026, 1, 1), "id@x", Who, [Sts(1, 1, ("validation-failure", "198.51.100.7", 1))]);
        Assert.Contains("\"mx-host\": [", json, StringComparison.Ordinal);
        Assert.DoesNotContain("receiving-mx-helo", json, StringComparison.Ordinal);
        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Rfc_8460_section_5_3_names()
    {
        var day = new DateOnly(2016, 8, 1);
        Assert.Equal("mail.sender.example!example.com!1470009600!1470095999!001.json.gz",
            ReportDocument.FileName("mail.sender.example", "example.com", day, "001"));
        Assert.Equal("Report Domain: example.com Submitter: mail.sender.example Report-ID: <735ff.e317+bf22029@mailexample.net>",
            ReportDocument.Subject("example.com", "mail.sender.example", "735ff.e317+bf22029@mailexample.net"));
    }

    // RFC 8460 §5.3 filename with §5.1's rules: sender and policy-domain are RFC 5321 domains,
    // unique-id = 1*(ALPHA / DIGIT).
    private const string Domain5321 = @"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*";
    public const string Rfc8460FileName = "^" + Domain5321 + "!" + Domain5321 + @"!\d+!\d+(?:![A-Za-z0-9]+)?\.json(?:\.gz)?$";

    [Theory]
    [InlineData("20261201.1265907373ac", "202612011265907373ac")] // the sender's report-id local part
    [InlineData("a+b.c-d_e", "abcde")]
    public void File_name_unique_id_is_only_letters_and_digits(string reportIdLocalPart, string uniqueId)
    {
        string name = ReportDocument.FileName("mta.sender.example", "example.com", new DateOnly(2026, 12, 1), reportIdLocalPart);
        Assert.Matches(Rfc8460FileName, name);
        Assert.EndsWith("!" + uniqueId + ".json.gz", name, StringComparison.Ordinal);
    }

    [Fact]
    public void File_name_without_usable_unique_id_leaves_it_out()
    {
        string name = ReportDocument.FileName("mta.sender.example", "example.com", new DateOnly(2026, 12, 1), ".-+");
        Assert.Equal("mta.sender.example!example.com!1796083200!1796169599.json.gz", name);
        Assert.Matches(Rfc8460FileName, name);
    }

    [Fact]
    public void Gzip_round_trips()
    {
        byte[] gz = ReportDocument.Gzip("{\"a\":1}");
        Assert.Equal(new byte[] { 0x1f, 0x8b }, gz[..2]);
        using var unzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        Assert.Equal("{\"a\":1}", new StreamReader(unzip).ReadToEnd());
    }

    [Theory]
    [InlineData("v=TLSRPTv1; rua=mailto:tlsrpt@example.com", "mailto:tlsrpt@example.com")]
    [InlineData("v=TLSRPTv1;rua=mailto:a%2Cb@example.com,https://r.example/x", "mailto:a,b@example.com|https://r.example/x")]
    [InlineData("v=TLSRPTv1; rua=mailto:r@example.com?subject=x", "mailto:r@example.com")]
    [InlineData("v=TLSRPTv1; rua=mailto:r@example.com,mailto:r@example.com", "mailto:r@example.com")]
    public void Destinations_from_the_record(string record, string expected)
    {
        var (d, problem) = ReportDestination.FromRecord(record);
        Assert.Null(problem);
        Assert.Equal(expected, string.Join('|', d));
    }

    [Theory]
    [InlineData("v=TLSRPTv1; rua=http://r.example/")]
    [InlineData("v=TLSRPTv2; rua=mailto:r@example.com")]
    [InlineData("v=TLSRPTv1;")]
    [InlineData("v=TLSRPTv1; rua=mailto:a@b@example.com")]
    public void Unusable_records_give_no_destinations(string record)
    {
        var (d, problem) = ReportDestination.FromRecord(record);
        Assert.Empty(d);
        Assert.NotNull(problem);
    }
}
