using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Checking;
using Portcullis.Core.Monitoring;
using Portcullis.Observability;

namespace Portcullis.Tests.Observability;

/// <summary>The monitor's gauges as scraped: labels from configured domains and fixed words, series gone when no longer reported.</summary>
public sealed class OwnDomainGaugesTests
{
    [Fact]
    public void Gauges_show_each_check_certificate_days_and_report_age_and_drop_series_no_longer_reported()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero));
        using var exporter = new PrometheusExporter();
        using var metrics = new PortcullisMetrics();
        CheckItem[] items = [new("MTA-STS", "policy fetch", CheckStatus.Fail, "HTTP 404") { Kind = CheckKind.MtaStsPolicy }];
        var status = new OwnDomainStatus("own.test", time.GetUtcNow(), TimeSpan.Zero, OwnDomainJudge.Summarise(items), items,
            [new HostCertificate("mx.own.test", "192.0.2.1", time.GetUtcNow().AddDays(20))],
            new HostCertificate("mta-sts.own.test", "192.0.2.2", time.GetUtcNow().AddDays(3)), null, new DateOnly(2026, 3, 7));
        IReadOnlyList<OwnDomainStatus> current = [status];
        metrics.OwnDomains = new OwnDomainSource(() => current, time);

        string text = exporter.Render();
        Assert.Contains("portcullis_own_domain_check{check=\"mta_sts_policy\",domain=\"own.test\"} 0\n", text);
        Assert.Contains("portcullis_own_domain_check{check=\"mx\",domain=\"own.test\"} 1\n", text);
        Assert.Equal(9, text.Split('\n').Count(l => l.StartsWith("portcullis_own_domain_check{", StringComparison.Ordinal)));
        Assert.Contains("portcullis_own_domain_certificate_days{domain=\"own.test\",kind=\"mx\"} 20\n", text);
        Assert.Contains("portcullis_own_domain_certificate_days{domain=\"own.test\",kind=\"mta-sts\"} 3\n", text);
        Assert.Contains("portcullis_own_domain_tlsrpt_report_age_days{domain=\"own.test\"} 2\n", text);

        // Aged at scrape time by the clock; a certificate no longer served takes its series with it.
        time.Advance(TimeSpan.FromDays(1));
        current = [status with { MxCertificates = [] }];
        text = exporter.Render();
        Assert.Contains("portcullis_own_domain_certificate_days{domain=\"own.test\",kind=\"mta-sts\"} 2\n", text);
        Assert.DoesNotContain("kind=\"mx\"", text);
        Assert.Contains("portcullis_own_domain_tlsrpt_report_age_days{domain=\"own.test\"} 3\n", text);

        current = [status with { LastTlsRptReportDay = null }];
        Assert.Contains("portcullis_own_domain_tlsrpt_report_age_days{domain=\"own.test\"} -1\n", exporter.Render());
    }
}
