namespace Portcullis.Configuration;

/// <summary>The rules of publishing your own policy (policy host and ACME listeners, the domains) and of trusted_proxies.</summary>
internal static class PublishRules
{
    public static void Validate(PortcullisConfig c, ConfigErrors e)
    {
        e.TcpListeners("publish.listen", c.Publish.Listen);
        // The ACME listener, webroot and trusted_proxies stop validation at once, with their error alone.
        foreach (string l in c.Publish.AcmeListen)
        {
            if (ConfigLoader.ParseListen(l).Tcp is null)
                throw new ConfigException($"publish.acme_listen: '{l}' must be HOST:PORT");
        }
        if (c.Publish.AcmeWebroot.Length > 0 && !Path.IsPathRooted(c.Publish.AcmeWebroot))
            throw new ConfigException($"publish.acme_webroot: '{c.Publish.AcmeWebroot}' must be an absolute path");
        if (Net.TrustedProxies.Parse(c.TrustedProxies, out string? proxyError) is null)
            throw new ConfigException(proxyError!);
        foreach (var (domain, d) in c.Publish.Domains)
        {
            if (!Core.Names.DomainName.TryParse(domain, out _))
                e.Err($"publish.domains: '{domain}' is not a domain name");
            if (Settings.Published(domain, d) is not { } p)
                e.Err($"publish.domains.{domain}.mode: '{d.Mode}' is not enforce, testing or none");
            else if (p.Validate() is { } error)
                e.Err($"publish.domains.{domain}: the policy would be invalid: {error}");
        }
    }
}
