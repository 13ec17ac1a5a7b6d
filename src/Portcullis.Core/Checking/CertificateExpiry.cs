namespace Portcullis.Core.Checking;

/// <summary>How a served certificate's remaining lifetime is judged (by `check` and the own-domain monitor).</summary>
public static class CertificateExpiry
{
    /// <summary>Renewal normally happens 30 days ahead; two weeks left means it failed.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromDays(14);

    public static CheckStatus Judge(DateTimeOffset notAfter, DateTimeOffset now) =>
        notAfter - now is var left && left < TimeSpan.Zero ? CheckStatus.Fail : left < Soon ? CheckStatus.Warn : CheckStatus.Pass;

    public static double DaysLeft(DateTimeOffset notAfter, DateTimeOffset now) => (notAfter - now).TotalDays;
}
