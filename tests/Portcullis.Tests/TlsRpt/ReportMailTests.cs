using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using MimeKit.Cryptography;
using Portcullis.TlsRpt.Sending;

namespace Portcullis.Tests.TlsRpt;

/// <summary>The report mail of RFC 8460 §5.3, built by the real transport and checked part by part,
/// including a DKIM signature verified with MimeKit's verifier after a write/parse round trip.</summary>
public sealed class ReportMailTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-mail-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero));
    private static readonly OutgoingReport Report = new("20261130.0a1b2c3d4e5f@mta.sender.example", "example.com", new DateOnly(2026, 11, 30),
        "mta.sender.example", """{"organization-name":"Org","report-id":"20261130.0a1b2c3d4e5f@mta.sender.example"}""");

    private sealed class KeyLocator(string txt) : DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken ct = default) =>
            domain == "sender.example" && selector == "rpt" ? GetPublicKey(txt) : throw new InvalidOperationException($"no key for {selector}._domainkey.{domain}");

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken ct = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, ct));
    }

    private SmtpOptions Options(DkimOptions? dkim) =>
        new("127.0.0.1", 25, Portcullis.Configuration.SmtpTls.None, "", "", "tlsrpt-noreply@sender.example", TimeSpan.FromSeconds(5)) { Dkim = dkim };

    [Fact]
    public void Headers_subject_and_attachment_follow_rfc_8460()
    {
        var m = new MailReportTransport(Options(null), _time).Build(Report, "tlsrpt@example.com");
        Assert.Equal("example.com", m.Headers["TLS-Report-Domain"]);
        Assert.Equal("mta.sender.example", m.Headers["TLS-Report-Submitter"]);
        Assert.Equal("No", m.Headers["TLS-Required"]);
        Assert.Equal("Report Domain: example.com Submitter: mta.sender.example Report-ID: <20261130.0a1b2c3d4e5f@mta.sender.example>", m.Subject);
        var report = Assert.IsType<MultipartReport>(m.Body);
        Assert.Equal("tlsrpt", report.ReportType);
        Assert.IsType<TextPart>(report[0]);
        var gz = Assert.IsType<MimePart>(report[1]);
        Assert.Equal("application/tlsrpt+gzip", gz.ContentType.MimeType);
        Assert.Equal("mta.sender.example!example.com!1795996800!1796083199!202611300a1b2c3d4e5f.json.gz", gz.FileName);
        Assert.True(gz.ContentDisposition!.IsAttachment);
    }

    [Fact]
    public async Task Dkim_signature_verifies_after_the_message_is_written_and_read_back()
    {
        using var rsa = RSA.Create(2048);
        string key = Path.Combine(_dir, "dkim.pem");
        await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
        string txt = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var built = new MailReportTransport(Options(new DkimOptions(key, "sender.example", "rpt")), _time).Build(Report, "tlsrpt@example.com");
        using var wire = new MemoryStream();
        await built.WriteToAsync(wire);
        wire.Position = 0;
        var received = await MimeMessage.LoadAsync(wire);
        Assert.Single(received.Headers, h => h.Id == HeaderId.MimeVersion);
        var signature = Assert.Single(received.Headers, h => h.Id == HeaderId.DkimSignature);
        Assert.Contains("d=sender.example", signature.Value, StringComparison.Ordinal);
        Assert.Contains("tls-report-domain", signature.Value.ToLowerInvariant(), StringComparison.Ordinal);
        var verifier = new DkimVerifier(new KeyLocator(txt));
        Assert.True(await verifier.VerifyAsync(received, signature));
        // A changed header breaks it: the verifier really checks.
        received.Headers["TLS-Report-Domain"] = "evil.example";
        Assert.False(await verifier.VerifyAsync(received, signature));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
