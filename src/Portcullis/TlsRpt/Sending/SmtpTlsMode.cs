namespace Portcullis.TlsRpt.Sending;

/// <summary>How report mails are secured to the relay (<c>tlsrpt.send.smtp_tls</c>), parsed once from the configuration.</summary>
public enum SmtpTlsMode
{
    /// <summary><c>none</c>: plain SMTP.</summary>
    None,
    /// <summary><c>starttls</c>: STARTTLS required, certificate verified.</summary>
    StartTls,
    /// <summary><c>starttls-when-available</c> (default): STARTTLS if offered, not verified (like Postfix "may").</summary>
    StartTlsWhenAvailable,
    /// <summary><c>tls</c>: TLS from the first byte (port 465), certificate verified.</summary>
    Tls,
}

/// <summary>The configuration spelling of each <see cref="SmtpTlsMode"/>.</summary>
public static class SmtpTlsModes
{
    private static readonly (string Name, SmtpTlsMode Mode)[] All =
        [("none", SmtpTlsMode.None), ("starttls", SmtpTlsMode.StartTls), ("starttls-when-available", SmtpTlsMode.StartTlsWhenAvailable), ("tls", SmtpTlsMode.Tls)];

    public static IEnumerable<string> Names => All.Select(m => m.Name);

    /// <summary>The mode for a configured value, or null when it is none of <see cref="Names"/>.</summary>
    public static SmtpTlsMode? Parse(string value) => All.Where(m => m.Name == value).Select(m => (SmtpTlsMode?)m.Mode).FirstOrDefault();
}
