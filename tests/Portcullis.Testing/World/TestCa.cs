using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.Testing.World;

/// <summary>
/// A throwaway certificate authority (ECDSA P-256). Child processes trust it via SSL_CERT_FILE=<see cref="CaFile"/>;
/// in-process clients via <see cref="CreateChainPolicy"/>.
/// </summary>
public sealed class TestCa : IDisposable
{
    private readonly TempDir _dir;

    private TestCa(TempDir dir, X509Certificate2 certificate)
    {
        _dir = dir;
        Certificate = certificate;
        CaFile = dir.File("ca.pem");
        File.WriteAllText(CaFile, certificate.ExportCertificatePem() + "\n");
    }

    /// <summary>CA certificate with private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>PEM file containing only the CA certificate.</summary>
    public string CaFile { get; }

    /// <summary>Environment for a child .NET/OpenSSL process that must trust this CA and nothing else.</summary>
    public IReadOnlyDictionary<string, string> ChildEnvironment => new Dictionary<string, string>
    {
        ["SSL_CERT_FILE"] = CaFile,
        ["SSL_CERT_DIR"] = _dir.Path, // holds no hashed certs, so the system store is not consulted
    };

    public static TestCa Create(string commonName = "Portcullis Test CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        // Long validity backwards so expired leaves can still be issued inside the CA's validity window.
        var now = DateTimeOffset.UtcNow;
        using var cert = req.CreateSelfSigned(now.AddYears(-5), now.AddYears(5));
        return new TestCa(new TempDir("ca"), ReloadWithKey(cert));
    }

    /// <summary>A leaf for the given DNS names (SAN + serverAuth), valid from 1 day ago for 30 days unless specified.</summary>
    public X509Certificate2 IssueLeaf(IEnumerable<string> dnsNames, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        var names = dnsNames.ToList();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = LeafRequest(names, key);
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        using var issued = req.Create(Certificate, notBefore ?? now.AddDays(-1), notAfter ?? now.AddDays(30), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return ReloadWithKey(withKey);
    }

    public X509Certificate2 IssueLeaf(params string[] dnsNames) => IssueLeaf((IEnumerable<string>)dnsNames);

    /// <summary>A leaf that expired 30 days ago (valid for 30 days before that).</summary>
    public X509Certificate2 IssueExpiredLeaf(params string[] dnsNames) =>
        IssueLeaf(dnsNames, DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-30));

    /// <summary>A self-signed certificate for the names, not issued by any test CA.</summary>
    public static X509Certificate2 CreateSelfSigned(params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = LeafRequest(dnsNames, key);
        var now = DateTimeOffset.UtcNow;
        using var cert = req.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return ReloadWithKey(cert);
    }

    /// <summary>Chain policy trusting only this CA (for in-process HttpClient validation callbacks).</summary>
    public X509ChainPolicy CreateChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(Certificate);
        policy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        return policy;
    }

    private static CertificateRequest LeafRequest(IReadOnlyCollection<string> dnsNames, ECDsa key)
    {
        var req = new CertificateRequest("CN=" + (dnsNames.FirstOrDefault() ?? "portcullis-test"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var n in dnsNames)
            san.AddDnsName(n);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        return req;
    }

    // Round-trip through PKCS#12 so the private key is a persisted, SslStream-usable key on Linux.
    private static X509Certificate2 ReloadWithKey(X509Certificate2 cert) =>
        X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);

    public void Dispose()
    {
        Certificate.Dispose();
        _dir.Dispose();
    }
}
