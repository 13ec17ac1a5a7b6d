using System.Net;
using System.Text.RegularExpressions;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Portcullis.Configuration;

/// <summary>A configuration error with a message fit for the administrator.</summary>
public sealed class ConfigException(string message) : Exception(message);

public static partial class ConfigLoader
{
    private static readonly string[] Levels = ["notfound", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"];

    public static PortcullisConfig Load(string? path)
    {
        if (path is null)
            return Validate(new PortcullisConfig());
        if (!File.Exists(path))
            throw new ConfigException($"config file {path} does not exist");
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .Build();
        try
        {
            using var reader = File.OpenText(path);
            return Validate(deserializer.Deserialize<PortcullisConfig>(reader) ?? new PortcullisConfig());
        }
        catch (YamlException ex)
        {
            var m = UnknownProperty().Match(ex.Message);
            string what = m.Success ? $"unknown key '{m.Groups[1].Value}'" : (ex.InnerException?.Message ?? ex.Message);
            throw new ConfigException($"{path}:{ex.Start.Line}:{ex.Start.Column}: {what}");
        }
    }

    public static PortcullisConfig Validate(PortcullisConfig c)
    {
        if (c.Listen.Count == 0)
            throw new ConfigException("listen: at least one address is required");
        foreach (string l in c.Listen)
            _ = ParseListen(l);
        foreach (string l in c.Metrics.Listen)
        {
            if (ParseListen(l).Tcp is null)
                throw new ConfigException($"metrics.listen: '{l}' must be HOST:PORT");
        }
        ParseMode(c.SocketPermissions);
        if (c.Dns.Server.Length > 0 && !ResolvConf.TryParseEndpoint(c.Dns.Server, 53, out _))
            throw new ConfigException($"dns.server: '{c.Dns.Server}' is not HOST[:PORT] with an IP address");
        Positive("limits.max_connections", c.Limits.MaxConnections);
        Positive("limits.idle_timeout", c.Limits.IdleTimeout);
        Positive("refresh.ahead", c.Refresh.Ahead);
        Positive("refresh.idle_after", c.Refresh.IdleAfter);
        Positive("refresh.max_backoff", c.Refresh.MaxBackoff);
        Positive("dns.timeout_ms", c.Dns.TimeoutMs);
        Positive("dns.attempts", c.Dns.Attempts);
        Positive("cache.negative_ttl", c.Cache.NegativeTtl);
        switch (c.Cache.Type)
        {
            case "sqlite":
                break;
            case "redis" when c.Cache.Redis.Length == 0:
                throw new ConfigException("cache.redis: required with cache.type redis (e.g. \"127.0.0.1:6379\")");
            case "postgres" when c.Cache.Postgres.Length == 0:
                throw new ConfigException("cache.postgres: required with cache.type postgres (an Npgsql connection string)");
            case "redis" or "postgres":
                break;
            default:
                throw new ConfigException($"cache.type: '{c.Cache.Type}' is not sqlite, redis or postgres");
        }
        if (c.Cache.KeyPrefix.Length == 0 || c.Cache.KeyPrefix.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_'))
            throw new ConfigException($"cache.key_prefix: '{c.Cache.KeyPrefix}' must be letters, digits or '_'");
        Positive("mta_sts.connect_timeout_ms", c.MtaSts.ConnectTimeoutMs);
        Positive("mta_sts.fetch_timeout_ms", c.MtaSts.FetchTimeoutMs);
        if (c.MtaSts.FetchTimeoutMs > 60_000)
            throw new ConfigException("mta_sts.fetch_timeout_ms: at most 60000, Postfix gives up on the socketmap after 100 s");
        if (c.MtaSts.FailureRetry < 300)
            throw new ConfigException("mta_sts.failure_retry: at least 300 seconds (RFC 8461 §5.1)");
        Positive("mta_sts.txt_recheck_min", c.MtaSts.TxtRecheckMin);
        if (c.MtaSts.TxtRecheckMax < c.MtaSts.TxtRecheckMin)
            throw new ConfigException("mta_sts.txt_recheck_max: must not be below txt_recheck_min");
        if (!Levels.Contains(c.Tlsrpt.NoPolicyLevel))
            throw new ConfigException($"tlsrpt.no_policy_level: '{c.Tlsrpt.NoPolicyLevel}' is not one of {string.Join(", ", Levels)}");
        foreach (var (domain, o) in c.Overrides)
        {
            var hop = Core.Protocol.NextHopParser.Parse(domain);
            if (hop.Kind != Core.Protocol.NextHopKind.Domain)
                throw new ConfigException($"overrides: '{domain}' is not a domain name");
            string level = o.Policy.Split(' ', 2)[0];
            if (!Levels.Contains(level) || level == "notfound" || o.Policy.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new ConfigException($"overrides.{domain}.policy: '{o.Policy}' does not start with a Postfix security level");
        }
        foreach (string name in c.Maps.Keys)
        {
            if (name.Length == 0 || name.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_' && ch != '-'))
                throw new ConfigException($"maps: '{name}' is not a valid map name (letters, digits, '_', '-')");
            if (name.Equals("QUERY", StringComparison.OrdinalIgnoreCase) || name.Equals("QUERYwithTLSRPT", StringComparison.OrdinalIgnoreCase))
                throw new ConfigException($"maps: '{name}' is built in");
        }
        foreach (string l in c.Tlsrpt.ReceiveListen)
        {
            if (ParseListen(l).Tcp is null)
                throw new ConfigException($"tlsrpt.receive_listen: '{l}' must be HOST:PORT");
        }
        if ((c.Tlsrpt.ReceiveCertificate.Length == 0) != (c.Tlsrpt.ReceiveKey.Length == 0))
            throw new ConfigException("tlsrpt.receive_certificate and tlsrpt.receive_key go together");
        if (c.Tlsrpt.CollectSocket.Length > 0 && !Path.IsPathRooted(c.Tlsrpt.CollectSocket))
            throw new ConfigException($"tlsrpt.collect_socket: '{c.Tlsrpt.CollectSocket}' must be an absolute path");
        ValidateSend(c.Tlsrpt.Send);
        if (c.Tlsrpt.Store is not ("sqlite" or "postgres"))
            throw new ConfigException($"tlsrpt.store: '{c.Tlsrpt.Store}' is not sqlite or postgres");
        if (c.Tlsrpt.Store == "postgres" && c.Tlsrpt.Postgres.Length == 0 && c.Cache.Postgres.Length == 0)
            throw new ConfigException("tlsrpt.postgres: required with tlsrpt.store postgres (an Npgsql connection string), or set cache.postgres");
        foreach (string l in c.Publish.Listen)
        {
            if (ParseListen(l).Tcp is null)
                throw new ConfigException($"publish.listen: '{l}' must be HOST:PORT");
        }
        foreach (string l in c.Publish.AcmeListen)
        {
            if (ParseListen(l).Tcp is null)
                throw new ConfigException($"publish.acme_listen: '{l}' must be HOST:PORT");
        }
        if (c.Publish.AcmeWebroot.Length > 0 && !Path.IsPathRooted(c.Publish.AcmeWebroot))
            throw new ConfigException($"publish.acme_webroot: '{c.Publish.AcmeWebroot}' must be an absolute path");
        if (Net.TrustedProxies.Parse(c.TrustedProxies, out string? proxyError) is null)
            throw new ConfigException(proxyError!);
        foreach (var (domain, d) in c.Publish.Domains)
        {
            if (Core.Protocol.NextHopParser.Parse(domain).Kind != Core.Protocol.NextHopKind.Domain)
                throw new ConfigException($"publish.domains: '{domain}' is not a domain name");
            if (Settings.Published(domain, d) is not { } p)
                throw new ConfigException($"publish.domains.{domain}.mode: '{d.Mode}' is not enforce, testing or none");
            if (p.Validate() is { } error)
                throw new ConfigException($"publish.domains.{domain}: the policy would be invalid: {error}");
        }
        if (!Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(c.LogLevel, true, out _))
            throw new ConfigException($"log_level: '{c.LogLevel}' is not trace, debug, information, warning or error");
        return c;
    }

    /// <summary>A listener: TCP endpoint or unix socket path.</summary>
    public static (IPEndPoint? Tcp, string? UnixPath) ParseListen(string text)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text[5..];
            if (!Path.IsPathRooted(path))
                throw new ConfigException($"listen: '{text}': unix socket path must be absolute");
            return (null, path);
        }
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            text = "127.0.0.1" + text[9..];
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0)
            return (ep, null);
        throw new ConfigException($"listen: '{text}' is not HOST:PORT (IP address) or unix:/path");
    }

    public static UnixFileMode ParseMode(string octal)
    {
        try
        {
            int mode = Convert.ToInt32(octal, 8);
            if (mode is < 0 or > 0x1FF)
                throw new FormatException();
            return (UnixFileMode)mode;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ConfigException($"socket_permissions: '{octal}' is not an octal mode such as 0660");
        }
    }

    private static readonly string[] SmtpTlsModes = ["none", "starttls", "starttls-when-available", "tls"];

    private static void ValidateSend(TlsRptSendConfig s)
    {
        if (!SmtpTlsModes.Contains(s.SmtpTls))
            throw new ConfigException($"tlsrpt.send.smtp_tls: '{s.SmtpTls}' is not one of {string.Join(", ", SmtpTlsModes)}");
        if (!TryHostPort(s.SmtpServer, out _, out _))
            throw new ConfigException($"tlsrpt.send.smtp_server: '{s.SmtpServer}' is not HOST:PORT");
        if (s.SendAfter < 0 || s.Spread < 0)
            throw new ConfigException("tlsrpt.send.send_after and spread: must not be negative");
        Positive("tlsrpt.send.retry_for", s.RetryFor);
        Positive("tlsrpt.send.retention_days", s.RetentionDays);
        if (s.DkimKeyFile.Length > 0 && (s.DkimSelector.Length == 0 || !File.Exists(s.DkimKeyFile)))
            throw new ConfigException($"tlsrpt.send.dkim_key_file: '{s.DkimKeyFile}' must exist, and dkim_selector is required with it");
        if (!s.Enabled)
            return;
        if (s.OrganizationName.Length == 0)
            throw new ConfigException("tlsrpt.send.organization_name: required when sending reports (RFC 8460 §4.4)");
        if (s.ContactInfo.Length == 0)
            throw new ConfigException("tlsrpt.send.contact_info: required when sending reports (RFC 8460 §4.4), e.g. mailto:postmaster@example.net");
        if (s.MailFrom.Length == 0 || !s.MailFrom.Contains('@', StringComparison.Ordinal))
            throw new ConfigException("tlsrpt.send.mail_from: required when sending reports: the From address of report mails");
    }

    /// <summary>HOST:PORT where HOST is a name or an IP address (IPv6 in brackets).</summary>
    public static bool TryHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            || port is 0 or > 65535)
            return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0 && Uri.CheckHostName(host) != UriHostNameType.Unknown;
    }

    private static void Positive(string key, int value)
    {
        if (value <= 0)
            throw new ConfigException($"{key}: must be a positive number, not {value}");
    }

    [GeneratedRegex("Property '([^']+)' not found on type")]
    private static partial Regex UnknownProperty();
}
