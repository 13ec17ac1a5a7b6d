namespace Portcullis.Configuration;

/// <summary>The YAML configuration. Every key has a default; see README "Configuration reference".</summary>
public sealed class PortcullisConfig
{
    /// <summary>Socketmap listeners: <c>HOST:PORT</c> or <c>unix:/path</c>.</summary>
    public List<string> Listen { get; set; } = ["127.0.0.1:8642"];
    /// <summary>Octal mode of unix-domain sockets, e.g. 0660 so only the postfix group can connect.</summary>
    public string SocketPermissions { get; set; } = "0660";
    /// <summary>Directory of the cache, TLS-RPT database and control socket; relative paths in the file resolve against it.
    /// Empty: systemd's STATE_DIRECTORY when set, else ./data.</summary>
    public string DataDir { get; set; } = "";
    /// <summary>Unix socket for the <c>cache</c> commands (mode 0600); empty: next to the cache file; "none": off.</summary>
    public string ControlSocket { get; set; } = "";
    /// <summary>trace, debug, information, warning, error.</summary>
    public string LogLevel { get; set; } = "information";
    public DnsConfig Dns { get; set; } = new();
    public CacheConfig Cache { get; set; } = new();
    public MtaStsConfig MtaSts { get; set; } = new();
    public TlsRptConfig Tlsrpt { get; set; } = new();
    public MetricsConfig Metrics { get; set; } = new();
    public ConsoleConfig Console { get; set; } = new();
    public RefreshConfig Refresh { get; set; } = new();
    public LimitsConfig Limits { get; set; } = new();
    /// <summary>Per-domain static answers, given without lookups (key: domain).</summary>
    public Dictionary<string, OverrideConfig> Overrides { get; set; } = [];
    /// <summary>Extra socketmap names with their own options (key: the NAME in socketmap:…:NAME).</summary>
    public Dictionary<string, MapConfig> Maps { get; set; } = [];
    /// <summary>Your own domains' MTA-STS policies, for `policy-host` and `records`.</summary>
    public PublishConfig Publish { get; set; } = new();
    /// <summary>Load balancers (addresses or CIDRs) whose PROXY protocol header policy-host and the TLS-RPT
    /// report listeners accept; everyone else sending one is refused. Default none.</summary>
    public List<string> TrustedProxies { get; set; } = [];
}

public sealed class PublishConfig
{
    /// <summary>HTTPS listeners of `policy-host` (HOST:PORT); MTA-STS senders always use port 443.</summary>
    public List<string> Listen { get; set; } = ["0.0.0.0:443"];
    /// <summary>Directory certbot --webroot writes into; non-empty: serve its .well-known/acme-challenge/ on acme_listen.</summary>
    public string AcmeWebroot { get; set; } = "";
    /// <summary>Plain HTTP listeners (HOST:PORT) for ACME HTTP-01 challenges; they serve nothing else.</summary>
    public List<string> AcmeListen { get; set; } = ["0.0.0.0:80"];
    public Dictionary<string, PublishedDomainConfig> Domains { get; set; } = [];
}

public sealed class PublishedDomainConfig
{
    public string Mode { get; set; } = "testing";
    public List<string> Mx { get; set; } = [];
    public long MaxAge { get; set; } = 604800;
    /// <summary>PEM certificate (chain) and key for mta-sts.DOMAIN; re-read when the files change.</summary>
    public string Certificate { get; set; } = "";
    public string Key { get; set; } = "";
    /// <summary>For `records`: TLS-RPT report address(es), e.g. mailto:tlsrpt@example.com.</summary>
    public string TlsrptRua { get; set; } = "";
    /// <summary>For `records`: CNAME target for mta-sts.DOMAIN (the host running policy-host).</summary>
    public string PolicyHostTarget { get; set; } = "";
    /// <summary>For `records`: MX host name → its certificate (PEM) for TLSA 3 1 1 records.</summary>
    public Dictionary<string, string> MxCertificates { get; set; } = [];
}

public sealed class OverrideConfig
{
    /// <summary>A Postfix policy, e.g. <c>encrypt</c>, <c>none</c>, <c>secure match=relay.example.net</c>.</summary>
    public string Policy { get; set; } = "";
    /// <summary>Optional date (YYYY-MM-DD, UTC) after which the override is ignored.</summary>
    public DateTime? Expires { get; set; }
}

public sealed class MapConfig
{
    /// <summary>Enforce mode "testing" policies for queries on this map.</summary>
    public bool EnforceTesting { get; set; }
    /// <summary>Add TLSRPT attributes (Postfix 3.10+) to answers on this map.</summary>
    public bool Tlsrpt { get; set; }
}

public sealed class LimitsConfig
{
    /// <summary>Concurrent socketmap connections (and, separately, HTTP connections); more wait in the listen backlog.</summary>
    public int MaxConnections { get; set; } = 1000;
    /// <summary>Seconds a connection may take to send its next complete request, counted from connecting or from the
    /// previous answer; partial bytes do not extend it (Postfix itself closes after 10 s idle).</summary>
    public int IdleTimeout { get; set; } = 300;
    /// <summary>Seconds answers may wait to be read by the client before the connection is closed.</summary>
    public int WriteTimeout { get; set; } = 10;
    /// <summary>Seconds a request already being answered at SIGTERM may still take before it is answered TEMP.</summary>
    public int ShutdownGrace { get; set; } = 1;
    /// <summary>MX hosts examined for DANE per domain, lowest preference first (Postfix's smtp_mx_address_limit is 5).</summary>
    public int MaxMxHosts { get; set; } = 5;
}

public sealed class RefreshConfig
{
    /// <summary>Refresh policies of recently queried domains before they expire.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Seconds before expiry a refresh starts (spread by a per-domain offset).</summary>
    public int Ahead { get; set; } = 300;
    /// <summary>Seconds without a query after which a domain is no longer refreshed.</summary>
    public int IdleAfter { get; set; } = 86400;
    /// <summary>Ceiling (seconds) of the back-off after failed refreshes.</summary>
    public int MaxBackoff { get; set; } = 600;
}

public sealed class MetricsConfig
{
    /// <summary>Extra HTTP listeners serving only <c>/metrics</c> (HOST:PORT). The socketmap port serves it too.</summary>
    public List<string> Listen { get; set; } = [];
}

public sealed class ConsoleConfig
{
    /// <summary>HTTP listeners (HOST:PORT) for the operator's pages (the TLS-RPT summary at <c>/</c>); empty: off.
    /// No authentication: keep it on loopback or behind your own access control.</summary>
    public List<string> Listen { get; set; } = [];
}

public sealed class DnsConfig
{
    /// <summary><c>HOST[:PORT]</c> of a local validating resolver; empty: first nameserver in /etc/resolv.conf.</summary>
    public string Server { get; set; } = "";
    public int TimeoutMs { get; set; } = 2000;
    public int Attempts { get; set; } = 2;
}

public sealed class CacheConfig
{
    /// <summary>sqlite (one server), redis or postgres (several servers sharing results).</summary>
    public string Type { get; set; } = "sqlite";
    /// <summary>StackExchange.Redis configuration, e.g. "127.0.0.1:6379,password=…".</summary>
    public string Redis { get; set; } = "";
    /// <summary>Npgsql connection string, e.g. "Host=db;Username=portcullis;Password=…;Database=portcullis".</summary>
    public string Postgres { get; set; } = "";
    /// <summary>Prefix of Redis keys and PostgreSQL table names, so several deployments can share a server.</summary>
    public string KeyPrefix { get; set; } = "portcullis";
    /// <summary>SQLite file; empty: <c>DATA_DIR/cache.db</c>.</summary>
    public string Path { get; set; } = "";
    /// <summary>Seconds a "no MTA-STS" result is believed without new lookups.</summary>
    public int NegativeTtl { get; set; } = 600;
}

public sealed class MtaStsConfig
{
    /// <summary>Enforce <c>mode: testing</c> policies too (like postfix-mta-sts-resolver's strict_testing).</summary>
    public bool EnforceTesting { get; set; }
    public int ConnectTimeoutMs { get; set; } = 5000;
    /// <summary>Whole policy fetch; keep well under Postfix's 100 s socketmap timeout.</summary>
    public int FetchTimeoutMs { get; set; } = 15000;
    /// <summary>Seconds before a failed fetch of the same policy id is retried (RFC 8461: at least 300).</summary>
    public int FailureRetry { get; set; } = 300;
    /// <summary>Bounds (seconds) on re-reading the TXT record to notice a new policy id.</summary>
    public int TxtRecheckMin { get; set; } = 60;
    public int TxtRecheckMax { get; set; } = 3600;
    /// <summary>Allow policy hosts on loopback/private/special addresses. Off: a domain's DNS could
    /// otherwise make the mail server fetch from its own network. Test setups turn it on.</summary>
    public bool AllowPrivateAddresses { get; set; }
}

public sealed class TlsRptConfig
{
    /// <summary>
    /// Level sent with <c>policy_type=no-policy-found</c> to QUERYwithTLSRPT; must equal Postfix's
    /// smtp_tls_security_level. <c>notfound</c> answers NOTFOUND instead.
    /// </summary>
    public string NoPolicyLevel { get; set; } = "dane";
    /// <summary>Removed (Postfix 3.10 reports such answers wrongly, see README); still accepted so old
    /// configurations load, with a warning at start. Null: the key is absent.</summary>
    public bool? ReportPolicyFailures { get; set; }
    /// <summary>SQLite file for received TLS-RPT reports and this server's session counts; empty: DATA_DIR/tlsrpt.db.</summary>
    public string Database { get; set; } = "";
    /// <summary>Where received reports are kept: sqlite (the database file) or postgres.</summary>
    public string Store { get; set; } = "sqlite";
    /// <summary>Npgsql connection string with store postgres; empty: cache.postgres. Table PREFIX_tlsrpt_reports.</summary>
    public string Postgres { get; set; } = "";
    /// <summary>Listeners (HOST:PORT) accepting reports by POST (your rua=https://… endpoint); empty: off.</summary>
    public List<string> ReceiveListen { get; set; } = [];
    /// <summary>PEM certificate and key for those listeners; empty: plain HTTP (behind a TLS proxy).</summary>
    public string ReceiveCertificate { get; set; } = "";
    public string ReceiveKey { get; set; } = "";
    /// <summary>SQLite file for received reports and their summaries (store sqlite); empty: tlsrpt-reports.db beside <see cref="Database"/>.</summary>
    public string ReportsDatabase { get; set; } = "";
    /// <summary>Reports decoded, parsed and stored at the same time.</summary>
    public int ReceiveWorkers { get; set; } = 1;
    /// <summary>Reports that may wait for a worker; beyond workers + queue a POST gets 503 with Retry-After.</summary>
    public int ReceiveQueue { get; set; } = 16;
    /// <summary>Largest POST body accepted (gzip or JSON); after gunzip at most 10 MiB.</summary>
    public int ReceiveMaxBytes { get; set; } = 2 * 1024 * 1024;
    /// <summary>Megabytes the received reports (kept gzip) and summaries may occupy; beyond it a POST gets 507.</summary>
    public int ReceiveQuotaMb { get; set; } = 512;
    /// <summary>UNIX datagram socket that Postfix's <c>smtp_tlsrpt_socket_name</c> points at (libtlsrpt
    /// datagrams, one per TLS session); empty: off. Mode from <c>socket_permissions</c>.</summary>
    public string CollectSocket { get; set; } = "";
    /// <summary>Sending RFC 8460 reports about the collected sessions.</summary>
    public TlsRptSendConfig Send { get; set; } = new();
}

public sealed class TlsRptSendConfig
{
    /// <summary>Generate and deliver a report per recipient domain and UTC day with sessions.</summary>
    public bool Enabled { get; set; }
    /// <summary>RFC 8460 §4.4 organization-name and contact-info (required when enabled).</summary>
    public string OrganizationName { get; set; } = "";
    public string ContactInfo { get; set; } = "";
    /// <summary>§5.3 submitter (TLS-Report-Submitter, file name); empty: this host's name.</summary>
    public string Submitter { get; set; } = "";
    /// <summary>From address of report mails (required when enabled).</summary>
    public string MailFrom { get; set; } = "";
    /// <summary>SMTP server HOST:PORT that relays report mails (your Postfix; see README for the loop-free transport).</summary>
    public string SmtpServer { get; set; } = "127.0.0.1:25";
    /// <summary>none | starttls | starttls-when-available | tls.</summary>
    public string SmtpTls { get; set; } = "starttls-when-available";
    public string SmtpUsername { get; set; } = "";
    /// <summary>File holding the SMTP password (kept out of the config file).</summary>
    public string SmtpPasswordFile { get; set; } = "";
    /// <summary>DKIM-sign report mails here (PEM RSA key, d= domain, s= selector); empty key: the relay signs.</summary>
    public string DkimKeyFile { get; set; } = "";
    public string DkimDomain { get; set; } = "";
    public string DkimSelector { get; set; } = "";
    /// <summary>Seconds after 00:00 UTC before the previous day's reports go out, and the window over
    /// which domains are spread (a stable offset per domain).</summary>
    public int SendAfter { get; set; } = 900;
    public int Spread { get; set; } = 3600;
    /// <summary>Seconds a failed delivery is retried with back-off (RFC 8460 §5.3: up to 24 h).</summary>
    public int RetryFor { get; set; } = 86400;
    /// <summary>Days session counts and sent reports are kept.</summary>
    public int RetentionDays { get; set; } = 60;
    /// <summary>POST reports to rua=https:// hosts on loopback/private addresses too (tests only).</summary>
    public bool AllowPrivateAddresses { get; set; }
}
