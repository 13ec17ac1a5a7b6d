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
    /// <summary>What identifies one version of a file: certbot's live/ names are symlinks whose target changes on renewal.</summary>
    private readonly record struct Stamp(string Target, DateTime Time, long Length);
    private sealed record Loaded(X509Certificate2? Certificate, Stamp Cert, Stamp Key);
    private readonly ConcurrentDictionary<string, Loaded> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Stamp Cert, Stamp Key)> _failed = new(StringComparer.Ordinal);

    /// <summary>Why a certificate and key pair cannot be used, with a sysexits code; null when it loads.</summary>
    public static (string Message, int ExitCode)? Check(string certFile, string keyFile)
    {
        foreach (string file in new[] { certFile, keyFile })
        {
            if (!File.Exists(file))
                return ($"{file}: no such file", ExitCodes.NoInput);
        }
        try
        {
            using var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ($"cannot read {certFile} / {keyFile}: {ex.Message}", ExitCodes.IoError);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return ($"{certFile} / {keyFile}: not a PEM certificate and matching key: {ex.Message}", ExitCodes.DataError);
        }
    }

    public X509Certificate2? Get(string host, string certFile, string keyFile) => Load(host, certFile, keyFile, out _);

    /// <summary>The current certificate; on a load error the previous one (or null) and the error as one line.</summary>
    public X509Certificate2? Load(string host, string certFile, string keyFile, out string? error)
    {
        error = null;
        Stamp certStamp, keyStamp;
        try
        {
            certStamp = StampOf(certFile);
            keyStamp = StampOf(keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = ex.Message;
            return _cache.TryGetValue(host, out var old) ? old.Certificate : null;
        }
        if (_cache.TryGetValue(host, out var current) && current.Cert == certStamp && current.Key == keyStamp)
            return current.Certificate;
        try
        {
            var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            _cache[host] = new Loaded(cert, certStamp, keyStamp);
            _failed.TryRemove(host, out _);
            log.LogInformation("Loaded certificate for {Host} from {File}: {Subject}, valid until {NotAfter:u}",
                host, certFile, cert.Subject, cert.NotAfter.ToUniversalTime());
            return cert;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException or ArgumentException)
        {
            error = ex.Message;
            // Once per file version: a deploy hook between copying the certificate and the key is not news on every handshake.
            if (!_failed.TryGetValue(host, out var f) || f != (certStamp, keyStamp))
            {
                _failed[host] = (certStamp, keyStamp);
                log.LogError("Cannot load certificate for {Host} from {Cert} / {Key}: {Error}", host, certFile, keyFile, ex.Message);
            }
            return current?.Certificate;
        }
    }

    private static Stamp StampOf(string file)
    {
        var info = new FileInfo(file);
        string target = info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(true)?.FullName ?? info.FullName;
        var real = new FileInfo(target);
        if (!real.Exists)
            throw new FileNotFoundException($"{file}: no such file");
        return new Stamp(target, real.LastWriteTimeUtc, real.Length);
    }
}
