using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Core.Checking;
using Portcullis.Core.Dns;

namespace Portcullis.Tests.Checking;

public sealed class CheckingRulesTests
{
    [Theory]
    [InlineData("mail.example.com", "mail.example.com", true)]
    [InlineData("mail.example.com", "MAIL.example.com.", true)]
    [InlineData("*.example.com", "mail.example.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]   // exactly one label (RFC 8461 §4.1)
    [InlineData("mail.example.com", "mx.example.com", false)]
    public void Mx_patterns(string pattern, string host, bool matches) =>
        Assert.Equal(matches, MxPatternMatch.Matches(pattern, host));

    [Theory]
    [InlineData("v=TLSRPTv1; rua=mailto:tlsrpt@example.com", null)]
    [InlineData("v=TLSRPTv1;rua=mailto:a@example.com,https://reports.example.com/tlsrpt", null)]
    [InlineData("v=TLSRPTv1; rua=http://reports.example.com/", "not a mailto: or https: URI")]
    [InlineData("v=TLSRPTv1; rua=mailto:", "not a mailto: or https: URI")]
    [InlineData("v=TLSRPTv1;", "no rua= field")]
    [InlineData("v=spf1 -all", "no record starts with v=TLSRPTv1")]
    public void TlsRpt_records(string record, string? problem)
    {
        string? p = TlsRptRecord.Problem([record], out _);
        if (problem is null)
            Assert.Null(p);
        else
            Assert.Contains(problem, p);
    }

    [Fact]
    public void Two_tlsrpt_records_are_a_problem() =>
        Assert.Contains("2 v=TLSRPTv1 records", TlsRptRecord.Problem(["v=TLSRPTv1; rua=mailto:a@x.test", "v=TLSRPTv1; rua=mailto:b@x.test"], out _));

    [Fact]
    public void Tlsa_records_match_the_served_chain()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=CA", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leaf = new CertificateRequest("CN=mx.test", leafKey, HashAlgorithmName.SHA256)
            .Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3]);
        X509Certificate2[] chain = [leaf, ca];
        byte[] spki = leaf.PublicKey.ExportSubjectPublicKeyInfo();
        Assert.True(TlsaMatch.Matches(new TlsaRecord(3, 1, 1, SHA256.HashData(spki)), chain));
        Assert.True(TlsaMatch.Matches(new TlsaRecord(3, 0, 2, SHA512.HashData(leaf.RawData)), chain));
        Assert.True(TlsaMatch.Matches(new TlsaRecord(3, 1, 0, spki), chain));
        Assert.True(TlsaMatch.Matches(new TlsaRecord(2, 1, 1, SHA256.HashData(ca.PublicKey.ExportSubjectPublicKeyInfo())), chain));
        Assert.False(TlsaMatch.Matches(new TlsaRecord(2, 1, 1, SHA256.HashData(spki)), chain));   // DANE-TA must not match the leaf
        Assert.False(TlsaMatch.Matches(new TlsaRecord(3, 1, 1, new byte[32]), chain));
        Assert.False(TlsaMatch.Matches(new TlsaRecord(3, 1, 1, SHA256.HashData(spki)), []));
    }
}
