using System.Net;
using Portcullis.Core.Dns;
using Portcullis.Dns;

namespace Portcullis.Configuration;

/// <summary>Configuration errors (all of them, one line each) with messages fit for the administrator.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message) : this([message])
    {
    }

    public ConfigException(IReadOnlyList<string> errors) : base(string.Join("\n", errors)) => Errors = errors;

    public IReadOnlyList<string> Errors { get; }
}

public static class ConfigLoader
{
    private static readonly string[] Levels = ["notfound", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"];

    /// <summary>Read when no --config is given, if it exists (the Debian package's conffile).</summary>
    public const string DefaultFile = "/etc/portcullis/portcullis.yml";

    /// <summary>The file a command reads: the one given, else <see cref="DefaultFile"/> if it exists, else none (defaults).</summary>
    public static string? ResolvePath(string? given, string defaultFile = DefaultFile) =>
        given ?? (File.Exists(defaultFile) ? defaultFile : null);

    /// <summary>Reads and validates a file (null: the defaults).</summary>
    public static PortcullisConfig Load(string? path) => Validate(Read(path));

    /// <summary>
    /// Reads a file without validating it, so command-line options can replace values before
    /// <see cref="Validate"/> runs. Throws every type error and unknown key at once.
    /// </summary>
    public static PortcullisConfig Read(string? path)
    {
        if (path is null)
            return new PortcullisConfig();
        if (!File.Exists(path))
            throw new ConfigException($"config file {path} does not exist");
        return ConfigReader.Read(path);
    }

    /// <summary>
    /// Applies command-line options to a read file and remembers which keys they replaced, so a
    /// validation error about such a key does not point at the file.
    /// </summary>
    public static void Override(PortcullisConfig c, Action<PortcullisConfig> overrides)
    {
        (string, string)[] Snapshot() =>
        [
            ("listen", string.Join('\n', c.Listen)), ("dns.server", c.Dns.Server), ("cache.path", c.Cache.Path),
            ("publish.listen", string.Join('\n', c.Publish.Listen)),
        ];
        var before = Snapshot();
        overrides(c);
        if (ConfigReader.Sources.TryGetValue(c, out var source))
        {
            foreach (var ((key, was), (_, now)) in before.Zip(Snapshot()))
            {
                if (was != now)
                    source.Overridden.Add(key);
            }
        }
    }

    /// <summary>Checks every rule and throws all violations at once (each with file:line when the key is in the file).</summary>
    public static PortcullisConfig Validate(PortcullisConfig c)
    {
        var errors = new List<string>();
        void Err(string message) => errors.Add(message);
        void Try(Action check)
        {
            try
            {
                check();
            }
            catch (ConfigException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }
        void Positive(string key, int value)
        {
            if (value <= 0)
                Err($"{key}: must be a positive number, not {value}");
        }
        if (c.Listen.Count == 0)
            Err("listen: at least one address is required");
        foreach (string l in c.Listen)
            Try(() => ParseListen(l));
        foreach (string l in c.Metrics.Listen)
        {
            Try(() =>
            {
                if (ParseListen(l, "metrics.listen").Tcp is null)
                    Err($"metrics.listen: '{l}' must be HOST:PORT");
            });
        }
        Try(() => ParseMode(c.SocketPermissions));
        if (c.Dns.Server.Length > 0 && !ResolvConf.TryParseEndpoint(c.Dns.Server, 53, out _))
            Err($"dns.server: '{c.Dns.Server}' is not HOST[:PORT] with an IP address");
        Positive("limits.max_connections", c.Limits.MaxConnections);
        Positive("limits.idle_timeout", c.Limits.IdleTimeout);
        Positive("limits.write_timeout", c.Limits.WriteTimeout);
        // The host waits 30 s for connections to end at shutdown; the grace must end well before.
        if (c.Limits.ShutdownGrace is <= 0 or > 20)
            Err($"limits.shutdown_grace: must be 1 to 20 seconds, not {c.Limits.ShutdownGrace}");
        Positive("limits.max_mx_hosts", c.Limits.MaxMxHosts);
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
                Err("cache.redis: required with cache.type redis (e.g. \"127.0.0.1:6379\")");
                break;
            case "postgres" when c.Cache.Postgres.Length == 0:
                Err("cache.postgres: required with cache.type postgres (an Npgsql connection string)");
                break;
            case "redis" or "postgres":
                break;
            default:
                Err($"cache.type: '{c.Cache.Type}' is not sqlite, redis or postgres");
                break;
        }
        if (c.Cache.KeyPrefix.Length == 0 || c.Cache.KeyPrefix.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_'))
            Err($"cache.key_prefix: '{c.Cache.KeyPrefix}' must be letters, digits or '_'");
        Positive("mta_sts.connect_timeout_ms", c.MtaSts.ConnectTimeoutMs);
        Positive("mta_sts.fetch_timeout_ms", c.MtaSts.FetchTimeoutMs);
        if (c.MtaSts.FetchTimeoutMs > 60_000)
            Err("mta_sts.fetch_timeout_ms: at most 60000, Postfix gives up on the socketmap after 100 s");
        if (c.MtaSts.FailureRetry < 300)
            Err("mta_sts.failure_retry: at least 300 seconds (RFC 8461 §5.1)");
        Positive("mta_sts.txt_recheck_min", c.MtaSts.TxtRecheckMin);
        if (c.MtaSts.TxtRecheckMax < c.MtaSts.TxtRecheckMin)
            Err("mta_sts.txt_recheck_max: must not be below txt_recheck_min");
        if (!Levels.Contains(c.Tlsrpt.NoPolicyLevel))
            Err($"tlsrpt.no_policy_level: '{c.Tlsrpt.NoPolicyLevel}' is not one of {string.Join(", ", Levels)}");
        foreach (var (domain, o) in c.Overrides)
        {
            if (!Core.Names.DomainName.TryParse(domain, out _))
            {
                Err($"overrides: '{domain}' is not a domain name");
                continue;
            }
            string level = o.Policy.Split(' ', 2)[0];
            if (!Levels.Contains(level) || level == "notfound" || o.Policy.AsSpan().IndexOfAny('\n', '\r') >= 0)
                Err($"overrides.{domain}.policy: '{o.Policy}' does not start with a Postfix security level");
        }
        foreach (string name in c.Maps.Keys)
        {
            if (name.Length == 0 || name.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_' && ch != '-'))
                Err($"maps: '{name}' is not a valid map name (letters, digits, '_', '-')");
            if (name.Equals("QUERY", StringComparison.OrdinalIgnoreCase) || name.Equals("QUERYwithTLSRPT", StringComparison.OrdinalIgnoreCase))
                Err($"maps: '{name}' is built in");
        }
        foreach (string l in c.Tlsrpt.ReceiveListen)
        {
            Try(() =>
            {
                if (ParseListen(l, "tlsrpt.receive_listen").Tcp is null)
                    Err($"tlsrpt.receive_listen: '{l}' must be HOST:PORT");
            });
        }
        foreach (string l in c.Console.Listen)
        {
            if (ParseListen(l).Tcp is null)
                throw new ConfigException($"console.listen: '{l}' must be HOST:PORT");
        }
        Positive("tlsrpt.receive_workers", c.Tlsrpt.ReceiveWorkers);
        if (c.Tlsrpt.ReceiveQueue < 0)
            throw new ConfigException("tlsrpt.receive_queue: must not be negative");
        if (c.Tlsrpt.ReceiveMaxBytes is < 1024 or > TlsRpt.ReportInput.MaxReportBytes)
            throw new ConfigException($"tlsrpt.receive_max_bytes: between 1024 and {TlsRpt.ReportInput.MaxReportBytes}");
        Positive("tlsrpt.receive_quota_mb", c.Tlsrpt.ReceiveQuotaMb);
        if ((c.Tlsrpt.ReceiveCertificate.Length == 0) != (c.Tlsrpt.ReceiveKey.Length == 0))
            Err("tlsrpt.receive_certificate and tlsrpt.receive_key go together");
        if (c.Tlsrpt.CollectSocket.Length > 0 && !Path.IsPathRooted(c.Tlsrpt.CollectSocket))
            Err($"tlsrpt.collect_socket: '{c.Tlsrpt.CollectSocket}' must be an absolute path");
        ValidateSend(c.Tlsrpt.Send, errors);
        if (c.Tlsrpt.Store is not ("sqlite" or "postgres"))
            Err($"tlsrpt.store: '{c.Tlsrpt.Store}' is not sqlite or postgres");
        if (c.Tlsrpt.Store == "postgres" && c.Tlsrpt.Postgres.Length == 0 && c.Cache.Postgres.Length == 0)
            Err("tlsrpt.postgres: required with tlsrpt.store postgres (an Npgsql connection string), or set cache.postgres");
        foreach (string l in c.Publish.Listen)
        {
            Try(() =>
            {
                if (ParseListen(l, "publish.listen").Tcp is null)
                    Err($"publish.listen: '{l}' must be HOST:PORT");
            });
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
            if (!Core.Names.DomainName.TryParse(domain, out _))
                Err($"publish.domains: '{domain}' is not a domain name");
            if (Settings.Published(domain, d) is not { } p)
                Err($"publish.domains.{domain}.mode: '{d.Mode}' is not enforce, testing or none");
            else if (p.Validate() is { } error)
                Err($"publish.domains.{domain}: the policy would be invalid: {error}");
        }
        if (!Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(c.LogLevel, true, out _))
            Err($"log_level: '{c.LogLevel}' is not trace, debug, information, warning or error");
        var all = Located(c, errors);
        if (all.Count > 0)
            throw new ConfigException(all);
        return c;
    }

    /// <summary>Prefixes "file:line: " to errors about keys that are in the file and were not replaced on the command line.</summary>
    private static List<string> Located(PortcullisConfig c, List<string> errors)
    {
        if (!ConfigReader.Sources.TryGetValue(c, out var source))
            return errors;
        // A value that could not be read stands in as a placeholder: its rule violation would only repeat it.
        var unread = source.ReadErrors.Select(r => r.Key).ToHashSet();
        return [.. source.ReadErrors.Where(r => !source.Overridden.Contains(r.Key)).Select(r => r.Text), .. errors.Select(e =>
        {
            string key = e.Split(':', 2)[0];
            return (Key: key, Text: !key.Contains(' ', StringComparison.Ordinal) && !source.Overridden.Contains(key) && source.KeyLines.TryGetValue(key, out int line)
                ? $"{source.Path}:{line}: {e}"
                : e);
        }).Where(e => !unread.Contains(e.Key)).Select(e => e.Text)];
    }

    /// <summary>A listener: TCP endpoint or unix socket path.</summary>
    public static (IPEndPoint? Tcp, string? UnixPath) ParseListen(string text, string key = "listen")
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text[5..];
            if (!Path.IsPathRooted(path))
                throw new ConfigException($"{key}: '{text}': unix socket path must be absolute");
            return (null, path);
        }
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            text = "127.0.0.1" + text[9..];
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0)
            return (ep, null);
        throw new ConfigException($"{key}: '{text}' is not HOST:PORT (IP address) or unix:/path");
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

    private static void ValidateSend(TlsRptSendConfig s, List<string> errors)
    {
        if (!SmtpTlsNames.TryParse(s.SmtpTls, out _))
            errors.Add($"tlsrpt.send.smtp_tls: '{s.SmtpTls}' is not one of {string.Join(", ", SmtpTlsNames.All)}");
        if (!TryHostPort(s.SmtpServer, out _, out _))
            errors.Add($"tlsrpt.send.smtp_server: '{s.SmtpServer}' is not HOST:PORT");
        if (s.SendAfter < 0 || s.Spread < 0)
            errors.Add("tlsrpt.send.send_after and spread: must not be negative");
        foreach (var (key, value) in new[] { ("tlsrpt.send.retry_for", s.RetryFor), ("tlsrpt.send.retention_days", s.RetentionDays) })
        {
            if (value <= 0)
                errors.Add($"{key}: must be a positive number, not {value}");
        }
        if (s.DkimKeyFile.Length > 0 && (s.DkimSelector.Length == 0 || !File.Exists(s.DkimKeyFile)))
            errors.Add($"tlsrpt.send.dkim_key_file: '{s.DkimKeyFile}' must exist, and dkim_selector is required with it");
        if (!s.Enabled)
            return;
        if (s.OrganizationName.Length == 0)
            errors.Add("tlsrpt.send.organization_name: required when sending reports (RFC 8460 §4.4)");
        if (s.ContactInfo.Length == 0)
            errors.Add("tlsrpt.send.contact_info: required when sending reports (RFC 8460 §4.4), e.g. mailto:postmaster@example.net");
        if (s.MailFrom.Length == 0 || !s.MailFrom.Contains('@', StringComparison.Ordinal))
            errors.Add("tlsrpt.send.mail_from: required when sending reports: the From address of report mails");
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

}
