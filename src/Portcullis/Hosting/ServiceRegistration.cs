using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Dns;
using Portcullis.Hosting.Control;
using Portcullis.Hosting.Jobs;
using Portcullis.Hosting.Socketmap;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Resolution;
using Portcullis.Storage.Reports;
using Portcullis.Storage.Sessions;
using Portcullis.TlsRpt.Sending;

namespace Portcullis.Hosting;

/// <summary>
/// The composition root: which implementation of each component the configuration selects, built once. The
/// daemon registers them for dependency injection; the one-shot commands (query, cache, check, tlsrpt, doctor)
/// build the few they need through the same factories, so both get the same resolver, stores and transports.
/// </summary>
public static class ServiceRegistration
{
    public static void AddPortcullis(this IServiceCollection services, Settings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PortcullisMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<MetricsHttp>();
        services.AddSingleton<IDnsResolver>(sp => new MeasuredDnsResolver(settings.CreateResolver(), sp.GetRequiredService<PortcullisMetrics>()));
        services.AddSingleton<IPolicyFetcher>(sp => new MeasuredPolicyFetcher(
            new PolicyFetcher(sp.GetRequiredService<IDnsResolver>(), settings.Fetch, sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<PortcullisMetrics>()));
        services.AddSingleton<IPolicyStore>(sp =>
            settings.OpenStore(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Cache")));
        services.AddSingleton(sp => new Storage.GuardedPolicyStore(sp.GetRequiredService<IPolicyStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Storage.GuardedPolicyStore>>(), sp.GetRequiredService<PortcullisMetrics>()));
        services.AddSingleton<PolicyMemory>();
        services.AddSingleton(new StsEngine(settings.Sts));
        services.AddSingleton(sp => settings.CreateDaneResolver(sp.GetRequiredService<IDnsResolver>()));
        services.AddSingleton<ResolverHealth>();
        services.AddHostedService<ResolverSelfTest>();
        services.AddSingleton<PolicyResolver>();
        services.AddSingleton<PolicyCacheAdmin>();
        services.AddSingleton<ReplyCache>();
        services.AddSingleton<SocketmapService>();
        services.AddHostedService<CacheSweeper>();
        services.AddSingleton<IReportStore>(_ => new OpeningReportStore(settings.OpenReportStore));
        services.AddSingleton(new TlsRpt.ReportIntake(settings.Config.Tlsrpt.ReceiveWorkers, settings.Config.Tlsrpt.ReceiveQueue,
            settings.Config.Tlsrpt.ReceiveMaxBytes));
        services.AddSingleton(sp => new TlsRpt.ReportReceiver(sp.GetRequiredService<IReportStore>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PortcullisMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.TlsRpt"),
            settings.PublishedDomains.Keys.ToHashSet(StringComparer.Ordinal), settings.ReportQuotaBytes));
        services.AddSingleton(_ => new SessionStore(settings.TlsRptDatabase));
        if (settings.Config.Tlsrpt.CollectSocket.Length > 0)
        {
            services.AddHostedService(sp => new TlsRpt.Sending.DatagramCollector(settings.Config.Tlsrpt.CollectSocket,
                ConfigLoader.ParseMode(settings.Config.SocketPermissions), sp.GetRequiredService<SessionStore>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PortcullisMetrics>(),
                sp.GetRequiredService<ILogger<TlsRpt.Sending.DatagramCollector>>()));
        }
        if (settings.Config.Tlsrpt.Send.Enabled)
        {
            services.AddHostedService(sp => new TlsRpt.Sending.ReportSchedule(
                settings.CreateReportSender(sp.GetRequiredService<SessionStore>(), sp.GetRequiredService<IDnsResolver>(),
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.TlsRpt"),
                    sp.GetRequiredService<PortcullisMetrics>()),
                sp.GetRequiredService<SessionStore>(), settings.Config.Tlsrpt.Send.RetentionDays,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TlsRpt.Sending.ReportSchedule>>()));
        }
        Jobs.OwnDomainProbe.Register(services, settings);
        OperatorConsole.ConsoleSetup.AddServices(services, settings);
        services.AddSingleton(settings.Refresh);
        services.AddSingleton<RefreshService>();
        if (settings.Config.Refresh.Enabled)
            services.AddHostedService(sp => sp.GetRequiredService<RefreshService>());
    }

    public static DnsClientResolver CreateResolver(this Settings s) =>
        new(s.DnsServer, TimeSpan.FromMilliseconds(s.Config.Dns.TimeoutMs), s.Config.Dns.Attempts);

    /// <summary>Bound on the whole DANE branch: several DNS round trips, well under Postfix's 100 s.</summary>
    public static DaneResolver CreateDaneResolver(this Settings s, IDnsResolver dns) =>
        new(dns, TimeSpan.FromMilliseconds(s.Config.Dns.TimeoutMs * s.Config.Dns.Attempts * 4), s.Config.Limits.MaxMxHosts);

    /// <summary>The configured cache backend.</summary>
    public static IPolicyStore OpenStore(this Settings s, ILogger log) => s.Cache switch
    {
        CacheBackend.Redis r => Storage.PolicyStore.ConnectRedis(r.Configuration, r.KeyPrefix),
        CacheBackend.Postgres p => Storage.PolicyStore.OpenPostgres(p.ConnectionString, p.KeyPrefix),
        CacheBackend.Sqlite q => Storage.PolicyStore.OpenSqlite(q.Path, log),
        _ => throw new InvalidOperationException("unknown cache backend " + s.Cache),
    };

    /// <summary>Where received TLS-RPT reports are kept: SQLite (default) or PostgreSQL.</summary>
    public static IReportStore OpenReportStore(this Settings s) => s.Config.Tlsrpt.Store == "postgres"
        ? new PostgresReportStore(s.Config.Tlsrpt.Postgres.Length > 0 ? s.Config.Tlsrpt.Postgres : s.Config.Cache.Postgres,
            s.Config.Cache.KeyPrefix, s.ReportQuotaBytes)
        : new SqliteReportStore(s.ReportsDatabase, s.ReportQuotaBytes, legacy: s.TlsRptDatabase);

    /// <summary>The report sender with its mail and HTTPS transports.</summary>
    public static ReportSender CreateReportSender(this Settings s, SessionStore store, IDnsResolver dns, TimeProvider time,
        ILogger log, PortcullisMetrics? metrics = null) =>
        new(store, s.ReportPlanner, Reporter(s), new Dictionary<DestinationKind, IReportTransport>
        {
            [DestinationKind.Mail] = new MailReportTransport(Smtp(s), time),
            [DestinationKind.Https] = new HttpsReportTransport(dns, s.Config.Tlsrpt.Send.AllowPrivateAddresses, TimeSpan.FromSeconds(60)),
        }, time, log, metrics);

    /// <summary>Who our outgoing TLS-RPT reports say they are from (the host name when no submitter is configured).</summary>
    private static ReporterIdentity Reporter(Settings s) => new(s.Config.Tlsrpt.Send.OrganizationName, s.Config.Tlsrpt.Send.ContactInfo,
        s.Config.Tlsrpt.Send.Submitter.Length > 0 ? s.Config.Tlsrpt.Send.Submitter : System.Net.Dns.GetHostName().ToLowerInvariant());

    /// <summary>The SMTP relay for report mails; the password is read from its file here, once per sender.</summary>
    private static SmtpOptions Smtp(Settings settings)
    {
        var s = settings.Config.Tlsrpt.Send;
        ConfigLoader.TryHostPort(s.SmtpServer, out string host, out int port);
        string password = s.SmtpPasswordFile.Length > 0 ? File.ReadAllText(s.SmtpPasswordFile).Trim() : "";
        string dkimDomain = s.DkimDomain.Length > 0 ? s.DkimDomain : s.MailFrom[(s.MailFrom.LastIndexOf('@') + 1)..];
        SmtpTlsNames.TryParse(s.SmtpTls, out var tls); // validated at load
        return new(host, port, tls, s.SmtpUsername, password, s.MailFrom, TimeSpan.FromSeconds(60))
        {
            Dkim = s.DkimKeyFile.Length > 0 ? new DkimOptions(s.DkimKeyFile, dkimDomain, s.DkimSelector) : null,
        };
    }
}
