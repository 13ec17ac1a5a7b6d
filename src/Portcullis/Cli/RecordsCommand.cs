using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Configuration;
using Portcullis.Core.Publishing;
using Portcullis.Hosting.Http;

namespace Portcullis.Cli;

/// <summary>`records DOMAIN`: the DNS records to publish for one of our domains, in zone-file syntax.</summary>
public static class RecordsCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var domain = new Argument<string>("domain") { Description = "A domain from publish.domains" };
        var cmd = new Command("records", "Print the DNS records to publish for one of your domains (zone-file syntax)") { domain, config };
        CommonOptions.SetRun(cmd, config, (_, _) => { }, (parse, s, _) => Task.FromResult(Run(s, parse.GetValue(domain)!, Console.Out, Console.Error)));
        return cmd;
    }

    public static int Run(Settings settings, string key, TextWriter o, TextWriter err)
    {
        // A domain only: "[192.0.2.1]" used to be looked up as the domain 192.0.2.1.
        if (!Core.Names.DomainName.TryParse(key, out var domain) || !settings.PublishedDomains.TryGetValue(domain.Value, out var d))
        {
            err.WriteLine($"portcullis: {key} is not in publish.domains of the configuration");
            return ExitCodes.Usage;
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
                return ExitCodes.Failed;
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
        return ExitCodes.Ok;
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
