namespace Portcullis.TlsRpt.Sending;

/// <summary>What one delivery attempt came to.</summary>
public enum DeliveryOutcome
{
    Delivered,
    /// <summary>Not delivered; worth another attempt (a timeout, a 4xx from SMTP, a 5xx from HTTP).</summary>
    Retry,
    /// <summary>Not delivered, and retrying would not change that (a 5xx from SMTP, most 4xx from HTTP).</summary>
    GiveUp,
}

/// <summary>The outcome of one delivery attempt and, unless delivered, why.</summary>
public sealed record DeliveryResult(DeliveryOutcome Outcome, string? Error)
{
    public static readonly DeliveryResult Ok = new(DeliveryOutcome.Delivered, null);
    public static DeliveryResult Retry(string error) => new(DeliveryOutcome.Retry, error);
    public static DeliveryResult GiveUp(string error) => new(DeliveryOutcome.GiveUp, error);
}
