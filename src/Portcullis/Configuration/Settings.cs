using System.Net;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using Portcullis.Http;

namespace Portcullis.Configuration;

/// <summary>The validated configuration turned into the values the components take (the components themselves
/// are built by Hosting/ServiceRegistration, the composition root).</summary>
public sealed record Settings(PortcullisConfig Config)
{
    /// <summary>The file the configuration was read from; null: the built-in defaults.</summary>
    public string? ConfigFile { get; init; }

    // Derived values are computed on first use and kept: the configuration does not change under a Settings
    // (SIGHUP builds a new one), and some read files or the environment (resolv.conf, STATE_DIRECTORY).
    private IPEndPoint? _dnsServer;
    private string? _dataDir;
    private IReadOnlyList<ListenEndpoint>? _listen, _metricsListen, _consoleListen, _reportListen, _publishListen, _acmeListen;
    private CacheBackend? _cache;
    private IReadOnlyDictionary<string, MapOptions>? _maps;
    private IReadOnlyDictionary<string, StaticOverride>? _overrides;
    private IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)>? _published;
    private Net.TrustedProxies? _trustedProxies;

    public IPEndPoint DnsServer => _dnsServer ??= Config.Dns.Server.Length > 0 && ResolvConf.TryParseEndpoint(Config.Dns.Server, 53, out var ep)
        ? ep
        : ResolvConf.FirstNameserver();

    /// <summary>The socketmap listeners (<c>listen</c>), parsed once.</summary>
    public IReadOnlyList<ListenEndpoint> Listen => _listen ??= ListenEndpoint.ParseAll(Config.Listen, "listen");

    public IReadOnlyList<ListenEndpoint> MetricsListen => _metricsListen ??= ListenEndpoint.ParseAll(Config.Metrics.Listen, "metrics.listen");

    public IReadOnlyList<ListenEndpoint> ConsoleListen => _consoleListen ??= ListenEndpoint.ParseAll(Config.Console.Listen, "console.listen");

    public IReadOnlyList<ListenEndpoint> ReportListen => _reportListen ??= ListenEndpoint.ParseAll(Config.Tlsrpt.ReceiveListen, "tlsrpt.receive_listen");

    public IReadOnlyList<ListenEndpoint> PublishListen => _publishListen ??= ListenEndpoint.ParseAll(Config.Publish.Listen, "publish.listen");

    public IReadOnlyList<ListenEndpoint> AcmeListen => _acmeListen ??= ListenEndpoint.ParseAll(Config.Publish.AcmeListen, "publish.acme_listen");

    /// <summary>The cache backend <c>cache.type</c> selects, with its keys.</summary>
    public CacheBackend Cache => _cache ??= CacheBackend.From(Config.Cache, CachePath);

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
    public string DataDir => _dataDir ??= ResolveDataDir(Config.DataDir, Environment.GetEnvironmentVariable("STATE_DIRECTORY"), Environment.CurrentDirectory,
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
    public IReadOnlyDictionary<string, MapOptions> Maps => _maps ??= BuildMaps();

    private Dictionary<string, MapOptions> BuildMaps()
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

    /// <summary>Static per-domain answers, keyed by A-label domain.</summary>
    public IReadOnlyDictionary<string, StaticOverride> Overrides => _overrides ??=
        Config.Overrides.ToDictionary(
            kv => CanonicalDomain(kv.Key),
            kv => new StaticOverride(kv.Value.Policy.Trim(),
                kv.Value.Expires is { } d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null),
            StringComparer.Ordinal);

    public RenderOptions Render => new(Config.Tlsrpt.NoPolicyLevel == "notfound" ? null : Config.Tlsrpt.NoPolicyLevel);

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
            ? new Core.Publishing.PublishedPolicy(CanonicalDomain(domain), m, d.Mx.Select(x => x.Trim().ToLowerInvariant()).ToList(), d.MaxAge)
            : null;
    }

    // Configured domains are validated at load ("" would only follow a skipped validation).
    private static string CanonicalDomain(string configured) =>
        Core.Names.DomainName.TryParse(configured, out var name) ? name.Value : "";

    /// <summary>Validated at load, so parsing cannot fail here.</summary>
    public Net.TrustedProxies TrustedProxies => _trustedProxies ??= Net.TrustedProxies.Parse(Config.TrustedProxies, out _) ?? Net.TrustedProxies.None;

    /// <summary>All published domains by A-label name.</summary>
    public IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)> PublishedDomains => _published ??=
        Config.Publish.Domains.ToDictionary(kv => CanonicalDomain(kv.Key),
            kv => (Published(kv.Key, kv.Value)!, kv.Value), StringComparer.Ordinal);

    /// <summary>Beside the TLS-RPT database unless set: where an administrator put that file is where reports went before.</summary>
    public string ReportsDatabase => Config.Tlsrpt.ReportsDatabase.Length > 0 ? Config.Tlsrpt.ReportsDatabase
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(TlsRptDatabase))!, "tlsrpt-reports.db");

    public long ReportQuotaBytes => Config.Tlsrpt.ReceiveQuotaMb * 1024L * 1024;

    public Core.TlsRpt.Sending.ReportPlanner ReportPlanner => new(TimeSpan.FromSeconds(Config.Tlsrpt.Send.SendAfter),
        TimeSpan.FromSeconds(Config.Tlsrpt.Send.Spread), TimeSpan.FromSeconds(Config.Tlsrpt.Send.RetryFor));
}
