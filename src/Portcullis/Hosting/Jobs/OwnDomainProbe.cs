using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Checking;
using Portcullis.Configuration;
using Portcullis.Core.Monitoring;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Storage.Reports;
using Portcullis.TlsRpt;

namespace Portcullis.Hosting.Jobs;

/// <summary>
/// One monitoring run for one own domain: the `check` findings (<see cref="DomainChecker"/>), the expiry of the
/// certificate <c>mta-sts.DOMAIN</c> serves, and the newest stored TLS-RPT report about the domain.
/// </summary>
public sealed class OwnDomainProbe(IDnsResolver dns, IPolicyFetcher fetcher, IReportStore reports, bool allowNonPublic, TimeProvider time, ILogger log)
{
    public static readonly TimeSpan HttpsTimeout = TimeSpan.FromSeconds(15);
    private int _storeFailing;

    public async Task<OwnDomainStatus> CheckAsync(string domain, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        var found = await new DomainChecker(dns, fetcher, time, DomainChecker.ProbeTimeout).RunAsync(domain, ct);
        var (certificate, error) = await HttpsCertificateProbe.RunAsync(dns, "mta-sts." + domain, allowNonPublic, HttpsTimeout, ct);
        return new OwnDomainStatus(domain, time.GetUtcNow(), time.GetUtcNow() - started, OwnDomainJudge.Summarise(found.Items), found.Items,
            found.MxCertificates, certificate, error, LastReport(domain));
    }

    private DateOnly? LastReport(string domain)
    {
        try
        {
            var day = reports.LastReportDay(domain);
            if (Interlocked.Exchange(ref _storeFailing, 0) == 1)
                log.LogInformation("TLS-RPT store readable again for monitoring");
            return day;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The age gauge goes missing for this run; said once per outage, not per domain and run.
            if (Interlocked.Exchange(ref _storeFailing, 1) == 0)
                log.LogWarning("TLS-RPT store unreadable for monitoring ({Error}); report age unknown until it recovers", ex.Message);
            return null;
        }
    }

    /// <summary>Registers the monitor (always, so the console can read its possibly empty snapshot) and runs it when enabled.</summary>
    public static void Register(IServiceCollection services, Settings settings)
    {
        services.AddSingleton(sp =>
        {
            var time = sp.GetRequiredService<TimeProvider>();
            var logs = sp.GetRequiredService<ILoggerFactory>();
            // Its own resolver and fetcher: the query-path metrics keep describing Postfix's traffic alone.
            var resolver = settings.CreateResolver();
            var probe = new OwnDomainProbe(resolver, new PolicyFetcher(resolver, settings.Fetch, time), sp.GetRequiredService<IReportStore>(),
                settings.Fetch.AllowNonPublicAddresses, time, logs.CreateLogger("Portcullis.Monitoring"));
            var domains = settings.Config.Monitoring.Enabled ? settings.PublishedDomains.Keys.Order(StringComparer.Ordinal).ToList() : [];
            var monitor = new OwnDomainMonitor(domains, probe.CheckAsync, TimeSpan.FromSeconds(settings.Config.Monitoring.Interval),
                settings.Config.Monitoring.Concurrency, time, logs.CreateLogger("Portcullis.Monitoring"));
            sp.GetRequiredService<PortcullisMetrics>().OwnDomains = new OwnDomainSource(() => monitor.Snapshot, time);
            return monitor;
        });
        if (settings.Config.Monitoring.Enabled && settings.Config.Publish.Domains.Count > 0)
            services.AddHostedService(sp => sp.GetRequiredService<OwnDomainMonitor>());
    }
}
