using System.Diagnostics.Metrics;
using Portcullis.Core.Monitoring;

namespace Portcullis.Observability;

/// <summary>
/// The own-domain monitor's gauges. Labels are only the configured domain names (publish.domains) and
/// fixed words (check names, <c>kind</c> mx or mta-sts): nothing from DNS or the network becomes a label.
/// </summary>
/// <summary>Where the gauges read the monitor's results, and the clock that ages them at scrape time.</summary>
public sealed record OwnDomainSource(Func<IReadOnlyList<OwnDomainStatus>> Snapshot, TimeProvider Time);

internal static class OwnDomainGauges
{
    public static void Create(Meter meter, Func<OwnDomainSource?> source)
    {
        IReadOnlyList<OwnDomainStatus> Snap() => source()?.Snapshot() ?? [];
        DateTimeOffset Now() => (source()?.Time ?? TimeProvider.System).GetUtcNow();
        meter.CreateObservableGauge("portcullis_own_domain_check", () => Snap().SelectMany(s => OwnDomainJudge.AllChecks.Select(k =>
                new Measurement<int>(s.Failing(k) ? 0 : 1, new("domain", s.Domain), new("check", OwnDomainJudge.Label(k))))),
            description: "1 when the check of an own domain (publish.domains) found no failure at the last run, 0 when it did");
        meter.CreateObservableGauge("portcullis_own_domain_certificate_days", () => Certificates(Snap(), Now()),
            unit: "d", description: "Days until the soonest-expiring certificate of an own domain's MX hosts (kind mx) or mta-sts host (kind mta-sts) expires");
        meter.CreateObservableGauge("portcullis_own_domain_tlsrpt_report_age_days", () => Snap().Select(s =>
                new Measurement<double>(s.DaysSinceTlsRptReport(Now()) ?? -1, new KeyValuePair<string, object?>("domain", s.Domain))),
            unit: "d", description: "Days since the end of the newest reported day in stored TLS-RPT reports about an own domain; -1: none stored");
        meter.CreateObservableGauge("portcullis_own_domain_last_check_timestamp_seconds", () => Snap().Select(s =>
                new Measurement<double>(s.CheckedAt.ToUnixTimeMilliseconds() / 1000.0, new KeyValuePair<string, object?>("domain", s.Domain))),
            unit: "s", description: "When the monitor last finished checking an own domain (Unix time)");
    }

    private static IEnumerable<Measurement<double>> Certificates(IReadOnlyList<OwnDomainStatus> all, DateTimeOffset now)
    {
        foreach (var s in all)
        {
            if (s.MxCertificateDaysLeft(now) is { } mx)
                yield return new Measurement<double>(mx, new("domain", s.Domain), new("kind", "mx"));
            if (s.PolicyHostCertificateDaysLeft(now) is { } sts)
                yield return new Measurement<double>(sts, new("domain", s.Domain), new("kind", "mta-sts"));
        }
    }
}
