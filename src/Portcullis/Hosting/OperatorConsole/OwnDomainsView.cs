using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Configuration;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// Where readiness for <c>mode: enforce</c> comes from. Until the daemon monitors its own domains this
/// says so; a monitoring service registers its own implementation in the service collection.
/// </summary>
public interface IReadinessSource
{
    Readiness For(string domain);
}

public sealed class NoReadiness : IReadinessSource
{
    public Readiness For(string domain) =>
        new(false, null, "not monitored (monitoring.enabled is off): run `portcullis check " + domain + "`");
}

/// <summary>The configured <c>publish.domains</c>: mode, mx, the policy id, and days left on the configured certificate.</summary>
public static class OwnDomainsView
{
    public static OwnDomains Build(Settings settings, IReadinessSource readiness, DateTimeOffset now) => new(
        [.. settings.PublishedDomains.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new OwnDomain(kv.Key,
            Core.MtaSts.StsModeNames.ToWire(kv.Value.Policy.Mode), kv.Value.Policy.Mx, kv.Value.Policy.MaxAge, kv.Value.Policy.Id,
            kv.Value.Config.Certificate.Length == 0 ? null : Certificate(settings.InDataDir(kv.Value.Config.Certificate), now),
            readiness.For(kv.Key)))]);

    /// <summary>The first certificate of a PEM file (the leaf of a chain); an unreadable file is reported, not thrown.</summary>
    public static CertificateState Certificate(string file, DateTimeOffset now)
    {
        try
        {
            using var cert = X509Certificate2.CreateFromPem(File.ReadAllText(file));
            var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            return new CertificateState(file, notAfter, (int)Math.Floor((notAfter - now).TotalDays), cert.Subject, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return new CertificateState(file, null, null, null, ex.Message);
        }
    }
}
