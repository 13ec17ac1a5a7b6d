using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Configuration;
using Portcullis.Core.Publishing;
using Portcullis.Hosting.Http;

namespace Portcullis.Cli;

/// <summary>`records DOMAIN`: the DNS records to publish for one of our domains, in zone-file syntax.</summary>
public static class RecordsCommand
{
    public static int Run(Settings settings, string key, TextWriter o, TextWriter err)
    {
        string domain = Core.Protocol.NextHopParser.Parse(key).Domain;
        if (!settings.PublishedDomains.TryGetValue(domain, out var d))
        {
            err.WriteLine($"portcullis: {key} is not in publish.domains of the configuration");
            return 64;
        }
        var tlsa = new List<TlsaToPublish>();
        foreach (var (mx, file) in d.Config.MxCertificates)
        {
            try
            {
                using var cert = LoadFirstCertificate(file);
                string hex = Convert.ToHexString(SHA256.HashData(cert.PublicKey.ExportSubjectPublicKeyInfo())).ToLowerInvariant();
                tlsa.Add(new TlsaToPublish(mx, hex, $"SPKI SHA-256 of {cert.Subject} from {file}"));
            }
            catch (Exception ex) when (ex is IOException or CryptographicException)
            {
                err.WriteLine($"portcullis: cannot read the certificate of {mx} from {file}: {ex.Message}");
                return 1;
            }
        }
        o.Write(ZoneRecords.Render(d.Policy,
            d.Config.TlsrptRua.Length > 0 ? d.Config.TlsrptRua : null,
            d.Config.PolicyHostTarget.Length > 0 ? d.Config.PolicyHostTarget : null,
            tlsa));
        o.WriteLine(";");
        o.WriteLine($"; Policy served at https://mta-sts.{domain}{PolicyHostServer.PolicyPath} (id {d.Policy.Id}):");
        foreach (string line in d.Policy.Text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            o.WriteLine(";   " + line);
        o.WriteLine(ZoneRecords.ChangeProcedure);
        return 0;
    }

    /// <summary>The first certificate of a PEM file (the server's own, not its chain); no key needed.</summary>
    private static X509Certificate2 LoadFirstCertificate(string file)
    {
        string pem = File.ReadAllText(file);
        foreach (var (label, der) in PemBlocks(pem))
        {
            if (label == "CERTIFICATE")
                return X509CertificateLoader.LoadCertificate(der);
        }
        throw new CryptographicException("no CERTIFICATE block in the file");
    }

    private static IEnumerable<(string Label, byte[] Der)> PemBlocks(string pem)
    {
        int offset = 0;
        while (offset < pem.Length && PemEncoding.TryFind(pem.AsSpan(offset), out var fields))
        {
            var text = pem.AsSpan(offset);
            yield return (text[fields.Label].ToString(), Convert.FromBase64String(text[fields.Base64Data].ToString()));
            offset += fields.Location.End.Value;
        }
    }
}
