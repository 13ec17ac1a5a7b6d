using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Portcullis.Publishing;

/// <summary>
/// Certificates read from PEM files per host name, re-read when either file changes (renewals by
/// certbot and the like need no restart). A file that cannot be read keeps the previous certificate.
/// </summary>
public sealed class CertificateFiles(ILogger<CertificateFiles> log)
{
    private sealed record Loaded(X509Certificate2 Certificate, DateTime CertTime, DateTime KeyTime);
    private readonly ConcurrentDictionary<string, Loaded> _cache = new(StringComparer.Ordinal);

    public const int ExitNoInput = 66, ExitDataError = 65, ExitIoError = 74; // sysexits.h

    /// <summary>Why a certificate and key pair cannot be used, with a sysexits code; null when it loads.</summary>
    public static (string Message, int ExitCode)? Check(string certFile, string keyFile)
    {
        foreach (string file in new[] { certFile, keyFile })
        {
            if (!File.Exists(file))
                return ($"{file}: no such file", ExitNoInput);
        }
        try
        {
            using var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ($"cannot read {certFile} / {keyFile}: {ex.Message}", ExitIoError);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return ($"{certFile} / {keyFile}: not a PEM certificate and matching key: {ex.Message}", ExitDataError);
        }
    }

    public X509Certificate2? Get(string host, string certFile, string keyFile)
    {
        DateTime certTime, keyTime;
        try
        {
            certTime = File.GetLastWriteTimeUtc(certFile);
            keyTime = File.GetLastWriteTimeUtc(keyFile);
        }
        catch (IOException)
        {
            return _cache.TryGetValue(host, out var old) ? old.Certificate : null;
        }
        if (_cache.TryGetValue(host, out var current) && current.CertTime == certTime && current.KeyTime == keyTime)
            return current.Certificate;
        try
        {
            var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            _cache[host] = new Loaded(cert, certTime, keyTime);
            log.LogInformation("Loaded certificate for {Host} from {File}: {Subject}, valid until {NotAfter:u}",
                host, certFile, cert.Subject, cert.NotAfter.ToUniversalTime());
            return cert;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            log.LogError("Cannot load certificate for {Host} from {Cert} / {Key}: {Error}", host, certFile, keyFile, ex.Message);
            return current?.Certificate;
        }
    }
}
