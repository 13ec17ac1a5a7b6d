namespace Portcullis.TlsRpt.Sending;

/// <summary>The SMTP relay report mails go through (<c>tlsrpt.send.smtp_*</c>).</summary>
public sealed record SmtpOptions(string Host, int Port, Configuration.SmtpTls Tls, string Username, string Password, string MailFrom, TimeSpan Timeout)
{
    /// <summary>DKIM signing of report mails (RFC 8460 §5.3 requires a DKIM signature); null: the relay signs.</summary>
    public DkimOptions? Dkim { get; init; }
}
