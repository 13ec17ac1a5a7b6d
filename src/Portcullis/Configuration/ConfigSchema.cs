using static Portcullis.Configuration.Fields;

namespace Portcullis.Configuration;

/// <summary>
/// The configuration file's format: every key of every section and the property it sets (types and
/// defaults in <see cref="PortcullisConfig"/>, meanings in README "Configuration reference").
/// </summary>
internal static class ConfigSchema
{
    private static readonly Section<DnsConfig> Dns = new()
    {
        { "server", Text<DnsConfig>((c, v) => c.Server = v) },
        { "timeout_ms", Int<DnsConfig>((c, v) => c.TimeoutMs = v) },
        { "attempts", Int<DnsConfig>((c, v) => c.Attempts = v) },
    };

    private static readonly Section<CacheConfig> Cache = new()
    {
        { "type", Text<CacheConfig>((c, v) => c.Type = v) },
        { "redis", Text<CacheConfig>((c, v) => c.Redis = v) },
        { "postgres", Text<CacheConfig>((c, v) => c.Postgres = v) },
        { "key_prefix", Text<CacheConfig>((c, v) => c.KeyPrefix = v) },
        { "path", Text<CacheConfig>((c, v) => c.Path = v) },
        { "negative_ttl", Int<CacheConfig>((c, v) => c.NegativeTtl = v) },
    };

    private static readonly Section<MtaStsConfig> MtaSts = new()
    {
        { "enforce_testing", Bool<MtaStsConfig>((c, v) => c.EnforceTesting = v) },
        { "connect_timeout_ms", Int<MtaStsConfig>((c, v) => c.ConnectTimeoutMs = v) },
        { "fetch_timeout_ms", Int<MtaStsConfig>((c, v) => c.FetchTimeoutMs = v) },
        { "failure_retry", Int<MtaStsConfig>((c, v) => c.FailureRetry = v) },
        { "txt_recheck_min", Int<MtaStsConfig>((c, v) => c.TxtRecheckMin = v) },
        { "txt_recheck_max", Int<MtaStsConfig>((c, v) => c.TxtRecheckMax = v) },
        { "allow_private_addresses", Bool<MtaStsConfig>((c, v) => c.AllowPrivateAddresses = v) },
    };

    private static readonly Section<TlsRptSendConfig> TlsRptSend = new()
    {
        { "enabled", Bool<TlsRptSendConfig>((c, v) => c.Enabled = v) },
        { "organization_name", Text<TlsRptSendConfig>((c, v) => c.OrganizationName = v) },
        { "contact_info", Text<TlsRptSendConfig>((c, v) => c.ContactInfo = v) },
        { "submitter", Text<TlsRptSendConfig>((c, v) => c.Submitter = v) },
        { "mail_from", Text<TlsRptSendConfig>((c, v) => c.MailFrom = v) },
        { "smtp_server", Text<TlsRptSendConfig>((c, v) => c.SmtpServer = v) },
        { "smtp_tls", Text<TlsRptSendConfig>((c, v) => c.SmtpTls = v) },
        { "smtp_username", Text<TlsRptSendConfig>((c, v) => c.SmtpUsername = v) },
        { "smtp_password_file", Text<TlsRptSendConfig>((c, v) => c.SmtpPasswordFile = v) },
        { "dkim_key_file", Text<TlsRptSendConfig>((c, v) => c.DkimKeyFile = v) },
        { "dkim_domain", Text<TlsRptSendConfig>((c, v) => c.DkimDomain = v) },
        { "dkim_selector", Text<TlsRptSendConfig>((c, v) => c.DkimSelector = v) },
        { "send_after", Int<TlsRptSendConfig>((c, v) => c.SendAfter = v) },
        { "spread", Int<TlsRptSendConfig>((c, v) => c.Spread = v) },
        { "retry_for", Int<TlsRptSendConfig>((c, v) => c.RetryFor = v) },
        { "retention_days", Int<TlsRptSendConfig>((c, v) => c.RetentionDays = v) },
        { "allow_private_addresses", Bool<TlsRptSendConfig>((c, v) => c.AllowPrivateAddresses = v) },
    };

    private static readonly Section<TlsRptConfig> TlsRpt = new()
    {
        { "no_policy_level", Text<TlsRptConfig>((c, v) => c.NoPolicyLevel = v) },
        { "report_policy_failures", OptionalBool<TlsRptConfig>((c, v) => c.ReportPolicyFailures = v) },
        { "database", Text<TlsRptConfig>((c, v) => c.Database = v) },
        { "store", Text<TlsRptConfig>((c, v) => c.Store = v) },
        { "postgres", Text<TlsRptConfig>((c, v) => c.Postgres = v) },
        { "receive_listen", List<TlsRptConfig>((c, v) => c.ReceiveListen = v) },
        { "receive_certificate", Text<TlsRptConfig>((c, v) => c.ReceiveCertificate = v) },
        { "receive_key", Text<TlsRptConfig>((c, v) => c.ReceiveKey = v) },
        { "collect_socket", Text<TlsRptConfig>((c, v) => c.CollectSocket = v) },
        { "reports_database", Text<TlsRptConfig>((c, v) => c.ReportsDatabase = v) },
        { "receive_workers", Int<TlsRptConfig>((c, v) => c.ReceiveWorkers = v) },
        { "receive_queue", Int<TlsRptConfig>((c, v) => c.ReceiveQueue = v) },
        { "receive_max_bytes", Int<TlsRptConfig>((c, v) => c.ReceiveMaxBytes = v) },
        { "receive_quota_mb", Int<TlsRptConfig>((c, v) => c.ReceiveQuotaMb = v) },
        { "send", Section((TlsRptConfig c) => c.Send, TlsRptSend) },
    };

    private static readonly Section<MetricsConfig> Metrics = new()
    {
        { "listen", List<MetricsConfig>((c, v) => c.Listen = v) },
    };

    private static readonly Section<ConsoleConfig> Console = new()
    {
        { "listen", List<ConsoleConfig>((c, v) => c.Listen = v) },
    };

    private static readonly Section<RefreshConfig> Refresh = new()
    {
        { "enabled", Bool<RefreshConfig>((c, v) => c.Enabled = v) },
        { "ahead", Int<RefreshConfig>((c, v) => c.Ahead = v) },
        { "idle_after", Int<RefreshConfig>((c, v) => c.IdleAfter = v) },
        { "max_backoff", Int<RefreshConfig>((c, v) => c.MaxBackoff = v) },
    };

    private static readonly Section<LimitsConfig> Limits = new()
    {
        { "max_connections", Int<LimitsConfig>((c, v) => c.MaxConnections = v) },
        { "idle_timeout", Int<LimitsConfig>((c, v) => c.IdleTimeout = v) },
        { "write_timeout", Int<LimitsConfig>((c, v) => c.WriteTimeout = v) },
        { "shutdown_grace", Int<LimitsConfig>((c, v) => c.ShutdownGrace = v) },
        { "max_mx_hosts", Int<LimitsConfig>((c, v) => c.MaxMxHosts = v) },
    };

    /// <summary>overrides.DOMAIN</summary>
    private static readonly Section<OverrideConfig> Override = new()
    {
        { "policy", Text<OverrideConfig>((c, v) => c.Policy = v) },
        { "expires", Date<OverrideConfig>((c, v) => c.Expires = v) },
    };

    /// <summary>maps.NAME</summary>
    private static readonly Section<MapConfig> Map = new()
    {
        { "enforce_testing", Bool<MapConfig>((c, v) => c.EnforceTesting = v) },
        { "tlsrpt", Bool<MapConfig>((c, v) => c.Tlsrpt = v) },
    };

    /// <summary>publish.domains.DOMAIN</summary>
    private static readonly Section<PublishedDomainConfig> PublishedDomain = new()
    {
        { "mode", Text<PublishedDomainConfig>((c, v) => c.Mode = v) },
        { "mx", List<PublishedDomainConfig>((c, v) => c.Mx = v) },
        { "max_age", Long<PublishedDomainConfig>((c, v) => c.MaxAge = v) },
        { "certificate", Text<PublishedDomainConfig>((c, v) => c.Certificate = v) },
        { "key", Text<PublishedDomainConfig>((c, v) => c.Key = v) },
        { "tlsrpt_rua", Text<PublishedDomainConfig>((c, v) => c.TlsrptRua = v) },
        { "policy_host_target", Text<PublishedDomainConfig>((c, v) => c.PolicyHostTarget = v) },
        { "mx_certificates", TextDictionary((PublishedDomainConfig c) => c.MxCertificates) },
    };

    private static readonly Section<PublishConfig> Publish = new()
    {
        { "listen", List<PublishConfig>((c, v) => c.Listen = v) },
        { "acme_webroot", Text<PublishConfig>((c, v) => c.AcmeWebroot = v) },
        { "acme_listen", List<PublishConfig>((c, v) => c.AcmeListen = v) },
        { "domains", Dictionary((PublishConfig c) => c.Domains, () => new PublishedDomainConfig(), PublishedDomain) },
    };

    /// <summary>The whole file.</summary>
    public static readonly Section<PortcullisConfig> Root = new()
    {
        { "listen", List<PortcullisConfig>((c, v) => c.Listen = v) },
        { "socket_permissions", Text<PortcullisConfig>((c, v) => c.SocketPermissions = v) },
        { "data_dir", Text<PortcullisConfig>((c, v) => c.DataDir = v) },
        { "control_socket", Text<PortcullisConfig>((c, v) => c.ControlSocket = v) },
        { "log_level", Text<PortcullisConfig>((c, v) => c.LogLevel = v) },
        { "dns", Section((PortcullisConfig c) => c.Dns, Dns) },
        { "cache", Section((PortcullisConfig c) => c.Cache, Cache) },
        { "mta_sts", Section((PortcullisConfig c) => c.MtaSts, MtaSts) },
        { "tlsrpt", Section((PortcullisConfig c) => c.Tlsrpt, TlsRpt) },
        { "metrics", Section((PortcullisConfig c) => c.Metrics, Metrics) },
        { "console", Section((PortcullisConfig c) => c.Console, Console) },
        { "trusted_proxies", List<PortcullisConfig>((c, v) => c.TrustedProxies = v) },
        { "refresh", Section((PortcullisConfig c) => c.Refresh, Refresh) },
        { "limits", Section((PortcullisConfig c) => c.Limits, Limits) },
        { "overrides", Dictionary((PortcullisConfig c) => c.Overrides, () => new OverrideConfig(), Override) },
        { "maps", Dictionary((PortcullisConfig c) => c.Maps, () => new MapConfig(), Map) },
        { "publish", Section((PortcullisConfig c) => c.Publish, Publish) },
    };
}
