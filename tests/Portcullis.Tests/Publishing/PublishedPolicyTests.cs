using Portcullis.Core.MtaSts;
using Portcullis.Core.Publishing;

namespace Portcullis.Tests.Publishing;

public sealed class PublishedPolicyTests
{
    private static readonly PublishedPolicy P = new("example.com", StsMode.Enforce, ["mx1.example.com", "*.example.net"], 604800);

    [Fact]
    public void Text_is_crlf_and_valid()
    {
        Assert.Equal("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n", P.Text);
        Assert.Null(P.Validate());
    }

    [Fact]
    public void Id_follows_the_content()
    {
        Assert.Matches("^[0-9a-f]{20}$", P.Id);
        Assert.Equal(P.Id, (P with { }).Id);
        Assert.NotEqual(P.Id, (P with { Mode = StsMode.Testing }).Id);
        Assert.NotEqual(P.Id, (P with { Mx = ["mx2.example.com"] }).Id);
        Assert.NotEqual(P.Id, (P with { MaxAge = 86400 }).Id);
        Assert.Equal(StsTxtStatus.Valid, StsTxtParser.Parse([[P.TxtRecord]]).Status);
    }

    [Fact]
    public void Invalid_policies_are_reported()
    {
        Assert.NotNull((P with { Mx = [] }).Validate());
        Assert.NotNull((P with { Mx = ["192.0.2.1"] }).Validate());
        Assert.NotNull((P with { MaxAge = 31557601 }).Validate());
        Assert.Null((P with { Mode = StsMode.None, Mx = [] }).Validate());
    }

    [Fact]
    public void Records_are_zone_file_lines()
    {
        string zone = ZoneRecords.Render(P, "mailto:tlsrpt@example.com", "policy.example.org", [new TlsaToPublish("mx1.example.com", "ab", "test")]);
        Assert.Contains($"_mta-sts.example.com.\t3600\tIN\tTXT\t\"v=STSv1; id={P.Id}\"\n", zone);
        Assert.Contains("mta-sts.example.com.\t3600\tIN\tCNAME\tpolicy.example.org.\n", zone);
        Assert.Contains("_smtp._tls.example.com.\t3600\tIN\tTXT\t\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\"\n", zone);
        Assert.Contains("_25._tcp.mx1.example.com.\t3600\tIN\tTLSA\t3 1 1 ab\t; test\n", zone);
        Assert.Contains("; mta-sts.example.com. must have A/AAAA records", ZoneRecords.Render(P, null, null, []));
    }
}
