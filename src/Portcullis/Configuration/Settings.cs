using System.Net;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Resolution;

namespace Portcullis.Configuration;

/// <summary>The validated configuration turned into the values the components take.</summary>
public sealed record Settings(PortcullisConfig Config)
{
    /// <summary>The file the configuration was read from; null: the built-in defaults.</summary>
    public string? ConfigFile { get; init; }

    public IPEndPoint DnsServer => Config.Dns.Server.Length > 0 && ResolvConf.TryParseEndpoint(Config.Dns.Server, 53, out var ep)
        ? ep
        : ResolvConf.FirstNameserver();

    /// <summary>The control socket path, or null when disabled.</summary>
    public string? ControlSocket => Config.ControlSocket switch
    {
        "none" => null,
        "" => Path.ChangeExtension(CachePath, ".sock"),
        var p => InDataDir(p),
    };

    /// <summary>
    /// The absolute data directory: data_dir; unset, systemd's STATE_DIRECTORY; else /var/lib/portcullis for the
    /// packaged binary (so `portcullis cache …` run by the admin finds the service's store and socket), and
    /// ./data for a developer run from a checkout.
    /// </summary>
    public string DataDir => ResolveDataDir(Config.DataDir, Environment.GetEnvironmentVariable("STATE_DIRECTORY"), Environment.CurrentDirectory,
        Installed);

    public static string ResolveDataDir(string configured, string? stateDirectory, string workingDirectory, bool installed = false)
    {
        // systemd sets STATE_DIRECTORY to a colon-separated list when StateDirectory= names several.
        string dir = configured.Length > 0 ? configured
            : stateDirectory is { Length: > 0 } s ? s.Split(':')[0]
            : installed ? InstalledDataDir
            : DefaultDataDir;
        return Path.GetFullPath(dir, workingDirectory);
    }

    public const string DefaultDataDir = "data";
    public const string InstalledDataDir = "/var/lib/portcullis";

    /// <summary>Where the Debian package puts the binary (scripts/package.sh).</summary>
    public const string InstalledAppDirectory = "/usr/lib/portcullis/";

    /// <summary>True for the packaged binary, not for a build in a checkout.</summary>
    public static bool Installed => AppContext.BaseDirectory.StartsWith(InstalledAppDirectory, StringComparison.Ordinal);

    /// <summary>A path from the configuration file: a relative one is inside <see cref="DataDir"/>, never the working
    /// directory (which is / under systemd, read-only with ProtectSystem=strict).</summary>
    public string InDataDir(string path) => Path.GetFullPath(path, DataDir);

    public string TlsRptDatabase => InDataDir(Config.Tlsrpt.Database.Length > 0 ? Config.Tlsrpt.Database : "tlsrpt.db");

    public string CachePath => InDataDir(Config.Cache.Path.Length > 0 ? Config.Cache.Path : "cache.db");

    public StsOptions Sts => new()
    {
        EnforceTesting = Config.MtaSts.EnforceTesting,
        NegativeTtl = TimeSpan.FromSeconds(Config.Cache.NegativeTtl),
        FailureRetry = TimeSpan.FromSeconds(Config.MtaSts.FailureRetry),
        TxtRecheckMin = TimeSpan.FromSeconds(Config.MtaSts.TxtRecheckMin),
        TxtRecheckMax = TimeSpan.FromSeconds(Config.MtaSts.TxtRecheckMax),
        DnsErrorRetry = TimeSpan.FromSeconds(Config.MtaSts.TxtRecheckMin),
    };

    public FetchLimits Fetch => new()
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(Config.MtaSts.ConnectTimeoutMs),
        TotalTimeout = TimeSpan.FromMilliseconds(Config.MtaSts.FetchTimeoutMs),
        AllowNonPublicAddresses = Config.MtaSts.AllowPrivateAddresses,
    };

    public Core.Refresh.RefreshOptions Refresh => new(
        TimeSpan.FromSeconds(Config.Refresh.Ahead),
        TimeSpan.FromSeconds(Config.Refresh.IdleAfter),
        TimeSpan.FromSeconds(Config.Refresh.MaxBackoff));

    /// <summary>Socketmap names: the two built-in ones plus configured maps.</summary>
    public IReadOnlyDictionary<string, MapOptions> Maps
    {
        get
        {
            var maps = new Dictionary<string, MapOptions>(StringComparer.OrdinalIgnoreCase)
            {
                ["QUERY"] = new("QUERY", false, Config.MtaSts.EnforceTesting),
                ["QUERYwithTLSRPT"] = new("QUERYwithTLSRPT", true, Config.MtaSts.EnforceTesting),
            };
            foreach (var (name, m) in Config.Maps)
                maps[name] = new MapOptions(name, m.Tlsrpt, m.EnforceTesting || Config.MtaSts.EnforceTesting);
            return maps;
        }
    }

    /// <summary>Static per-domain answers, keyed by A-label domain.</summary>
    public IReadOnlyDictionary<string, StaticOverride> Overrides =>
        Config.Overrides.ToDictionary(
            kv => Core.Protocol.NextHopParser.Parse(kv.Key).Domain,
            kv => new StaticOverride(kv.Value.Policy.Trim(),
                kv.Value.Expires is { } d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null),
            StringComparer.Ordinal);

    public RenderOptions Render => new(Config.Tlsrpt.NoPolicyLevel == "notfound" ? null : Config.Tlsrpt.NoPolicyLevel);

    /// <summary>Bound on the whole DANE branch: several DNS round trips, well under Postfix's 100 s.</summary>
    public DaneResolver CreateDaneResolver(IDnsResolver dns) =>
        new(dns, TimeSpan.FromMilliseconds(Config.Dns.TimeoutMs * Config.Dns.Attempts * 4), Config.Limits.MaxMxHosts);

    /// <summary>A configured domain of ours as the policy it publishes; null for an unknown mode.</summary>
    public static Core.Publishing.PublishedPolicy? Published(string domain, PublishedDomainConfig d)
    {
        Core.MtaSts.StsMode? mode = d.Mode switch
        {
            "enforce" => Core.MtaSts.StsMode.Enforce,
            "testing" => Core.MtaSts.StsMode.Testing,
            "none" => Core.MtaSts.StsMode.None,
            _ => null,
        };
        return mode is { } m
            ? new Core.Publishing.PublishedPolicy(Core.Protocol.NextHopParser.Parse(domain).Domain, m, d.Mx.Select(x => x.Trim().ToLowerInvariant()).ToList(), d.MaxAge)
            : null;
    }

    /// <summary>Validated at load, so parsing cannot fail here.</summary>
    public Net.TrustedProxies TrustedProxies => Net.TrustedProxies.Parse(Config.TrustedProxies, out _) ?? Net.TrustedProxies.None;

    /// <summary>All published domains by A-label name.</summary>
    public IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)> PublishedDomains =>
        Config.Publish.Domains.ToDictionary(kv => Core.Protocol.NextHopParser.Parse(kv.Key).Domain,
            kv => (Published(kv.Key, kv.Value)!, kv.Value), StringComparer.Ordinal);

    /// <summary>The configured cache backend.</summary>
    public Core.Caching.IPolicyStore OpenStore(Microsoft.Extensions.Logging.ILogger log) => Config.Cache.Type switch
    {
        "redis" => Storage.PolicyStore.ConnectRedis(Config.Cache.Redis, Config.Cache.KeyPrefix),
        "postgres" => Storage.PolicyStore.OpenPostgres(Config.Cache.Postgres, Config.Cache.KeyPrefix),
        _ => Storage.PolicyStore.OpenSqlite(CachePath, log),
    };

    /// <summary>Where received TLS-RPT reports are kept: SQLite (default) or PostgreSQL.</summary>
    public TlsRpt.IReportStore OpenReportStore() => Config.Tlsrpt.Store == "postgres"
        ? new TlsRpt.PostgresReportStore(Config.Tlsrpt.Postgres.Length > 0 ? Config.Tlsrpt.Postgres : Config.Cache.Postgres, Config.Cache.KeyPrefix,
            ReportQuotaBytes)
        : new TlsRpt.ReportStore(ReportsDatabase, ReportQuotaBytes, legacy: TlsRptDatabase);

    /// <summary>Beside the TLS-RPT database unless set: where an administrator put that file is where reports went before.</summary>
    public string ReportsDatabase => Config.Tlsrpt.ReportsDatabase.Length > 0 ? Config.Tlsrpt.ReportsDatabase
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(TlsRptDatabase))!, "tlsrpt-reports.db");

    public long ReportQuotaBytes => Config.Tlsrpt.ReceiveQuotaMb * 1024L * 1024;

    /// <summary>Who our outgoing TLS-RPT reports say they are from.</summary>
    public Core.TlsRpt.Sending.ReporterIdentity Reporter => new(Config.Tlsrpt.Send.OrganizationName, Config.Tlsrpt.Send.ContactInfo,
        Config.Tlsrpt.Send.Submitter.Length > 0 ? Config.Tlsrpt.Send.Submitter : System.Net.Dns.GetHostName().ToLowerInvariant());

    public Core.TlsRpt.Sending.ReportPlanner ReportPlanner => new(TimeSpan.FromSeconds(Config.Tlsrpt.Send.SendAfter),
        TimeSpan.FromSeconds(Config.Tlsrpt.Send.Spread), TimeSpan.FromSeconds(Config.Tlsrpt.Send.RetryFor));

    /// <summary>The SMTP relay for report mails; the password is read from its file when needed.</summary>
    public TlsRpt.Sending.SmtpOptions Smtp
    {
        get
        {
            var s = Config.Tlsrpt.Send;
            ConfigLoader.TryHostPort(s.SmtpServer, out string host, out int port);
            string password = s.SmtpPasswordFile.Length > 0 ? File.ReadAllText(s.SmtpPasswordFile).Trim() : "";
            string dkimDomain = s.DkimDomain.Length > 0 ? s.DkimDomain : s.MailFrom[(s.MailFrom.LastIndexOf('@') + 1)..];
            // Validated by ConfigLoader; the default mode should an unvalidated value ever get here.
            var tls = TlsRpt.Sending.SmtpTlsModes.Parse(s.SmtpTls) ?? TlsRpt.Sending.SmtpTlsMode.StartTlsWhenAvailable;
            return new(host, port, tls, s.SmtpUsername, password, s.MailFrom, TimeSpan.FromSeconds(60))
            {
                Dkim = s.DkimKeyFile.Length > 0 ? new TlsRpt.Sending.DkimOptions(s.DkimKeyFile, dkimDomain, s.DkimSelector) : null,
            };
        }
    }

    /// <summary>The report sender with its mail and HTTPS transports.</summary>
    public TlsRpt.Sending.ReportSender CreateReportSender(TlsRpt.Sending.SessionStore store, IDnsResolver dns, TimeProvider time,
        Microsoft.Extensions.Logging.ILogger log, Observability.PortcullisMetrics? metrics = null) =>
        new(store, ReportPlanner, Reporter, new Dictionary<Core.TlsRpt.Sending.DestinationKind, TlsRpt.Sending.IReportTransport>
        {
            [Core.TlsRpt.Sending.DestinationKind.Mail] = new TlsRpt.Sending.MailReportTransport(Smtp, time),
            [Core.TlsRpt.Sending.DestinationKind.Https] = new TlsRpt.Sending.HttpsReportTransport(dns,
                Config.Tlsrpt.Send.AllowPrivateAddresses, TimeSpan.FromSeconds(60)),
        }, time, log, metrics);

    public DnsClientResolver CreateResolver() =>
        new(DnsServer, TimeSpan.FromMilliseconds(Config.Dns.TimeoutMs), Config.Dns.Attempts);
}
