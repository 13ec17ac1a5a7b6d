using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Publishing;

namespace Portcullis.Tests.Publishing;

public sealed class CertificateFilesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("portcullis-certs-");

    public void Dispose() => _dir.Delete(true);

    private (string Cert, string Key, string Serial) Write(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=mta-sts.example.com", key, HashAlgorithmName.SHA256);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string c = Path.Combine(_dir.FullName, name + ".crt"), k = Path.Combine(_dir.FullName, name + ".key");
        File.WriteAllText(c, cert.ExportCertificatePem());
        File.WriteAllText(k, key.ExportPkcs8PrivateKeyPem());
        // Same times for every version: only the symlink target tells them apart, as with certbot's live/ links.
        File.SetLastWriteTimeUtc(c, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(k, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        return (c, k, cert.SerialNumber);
    }

    private void Link(string link, string target)
    {
        string tmp = link + ".tmp";
        File.CreateSymbolicLink(tmp, target);
        File.Move(tmp, link, true);
    }

    [Fact]
    public void A_new_symlink_target_is_a_new_certificate_and_a_broken_one_keeps_the_old()
    {
        var v1 = Write("cert1");
        var v2 = Write("cert2");
        string live = Path.Combine(_dir.FullName, "fullchain.pem"), liveKey = Path.Combine(_dir.FullName, "privkey.pem");
        Link(live, v1.Cert);
        Link(liveKey, v1.Key);
        var files = new CertificateFiles(NullLogger<CertificateFiles>.Instance);
        Assert.Equal(v1.Serial, files.Get("h", live, liveKey)!.SerialNumber);
        Link(live, v2.Cert);
        // Certificate renewed, key not yet: mismatch, the previous certificate stays in service.
        Assert.Equal(v1.Serial, files.Load("h", live, liveKey, out string? error)!.SerialNumber);
        Assert.NotNull(error);
        Link(liveKey, v2.Key);
        Assert.Equal(v2.Serial, files.Get("h", live, liveKey)!.SerialNumber);
        File.Delete(v2.Cert);
        Assert.Equal(v2.Serial, files.Load("h", live, liveKey, out error)!.SerialNumber);
        Assert.NotNull(error);
    }

    [Fact]
    public void Missing_files_give_null_and_a_one_line_error()
    {
        var files = new CertificateFiles(NullLogger<CertificateFiles>.Instance);
        Assert.Null(files.Load("h", Path.Combine(_dir.FullName, "none.crt"), Path.Combine(_dir.FullName, "none.key"), out string? error));
        Assert.DoesNotContain('\n', error!);
    }
}
