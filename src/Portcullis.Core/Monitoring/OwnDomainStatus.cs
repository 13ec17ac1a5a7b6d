using Portcullis.Core.Checking;

namespace Portcullis.Core.Monitoring;

/// <summary>A certificate a host served, as seen by the monitor (MX hosts on port 25, <c>mta-sts.DOMAIN</c> on 443).</summary>
public sealed record HostCertificate(string Host, string Address, DateTimeOffset NotAfter);

/// <summary>
/// The latest monitoring result for one own domain (<c>publish.domains</c>): read-only, replaced as a
/// whole after each run, for the metrics and the operator console.
/// </summary>
/// <param name="Checks">Worst status per check; a check with no findings (not applicable) is Pass.</param>
/// <param name="Items">The findings as <c>check DOMAIN</c> lists them.</param>
/// <param name="PolicyHostCertificate">Null when <c>mta-sts.DOMAIN</c> could not be reached (see <paramref name="PolicyHostError"/>).</param>
/// <param name="LastTlsRptReportDay">UTC day of the newest stored TLS-RPT report about the domain; null: none (or the store failed).</param>
/// <param name="Error">Set when the run itself failed (e.g. timed out); every check then counts as failing.</param>
public sealed record OwnDomainStatus(
    string Domain,
    DateTimeOffset CheckedAt,
    TimeSpan Duration,
    IReadOnlyDictionary<CheckKind, CheckStatus> Checks,
    IReadOnlyList<CheckItem> Items,
    IReadOnlyList<HostCertificate> MxCertificates,
    HostCertificate? PolicyHostCertificate,
    string? PolicyHostError,
    DateOnly? LastTlsRptReportDay,
    string? Error = null)
{
    public bool Failing(CheckKind kind) => !Checks.TryGetValue(kind, out var s) || s == CheckStatus.Fail;

    /// <summary>Days the soonest-expiring MX certificate has left; null when none was served.</summary>
    public double? MxCertificateDaysLeft(DateTimeOffset now) =>
        MxCertificates.Count == 0 ? null : MxCertificates.Min(c => CertificateExpiry.DaysLeft(c.NotAfter, now));

    public double? PolicyHostCertificateDaysLeft(DateTimeOffset now) =>
        PolicyHostCertificate is { } c ? CertificateExpiry.DaysLeft(c.NotAfter, now) : null;

    /// <summary>Days since the end of the newest reported day (a report for day D arrives on D+1); null: none stored.</summary>
    public double? DaysSinceTlsRptReport(DateTimeOffset now) =>
        LastTlsRptReportDay is { } d ? Math.Max(0, (now - new DateTimeOffset(d.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)).TotalDays) : null;
}
