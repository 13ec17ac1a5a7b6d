using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.TlsRpt.Sending;

/// <summary>
/// rua=mailto: (RFC 8460 §5.3): a multipart/report; report-type="tlsrpt" message with the gzip
/// report attached, the TLS-Report-Domain/-Submitter headers and the §5.3 subject, handed to the
/// configured SMTP server. <c>TLS-Required: No</c> (RFC 8689) lets it go out even when the
/// recipient's TLS is broken — which is exactly when the report matters (§5.3).
/// </summary>
public sealed class MailReportTransport(SmtpOptions options, TimeProvider time) : IReportTransport
{
    // Relaxed canonicalisation survives relays that re-fold headers or change trailing whitespace.
    private readonly MimeKit.Cryptography.DkimSigner? _dkim = options.Dkim is { } d
        ? new MimeKit.Cryptography.DkimSigner(d.KeyFile, d.Domain, d.Selector)
        {
            HeaderCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
        }
        : null;

    private static readonly string[] SignedHeaders =
        ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "TLS-Report-Domain", "TLS-Report-Submitter", "TLS-Required"];

    public MimeMessage Build(OutgoingReport report, string to)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.MailFrom));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = report.Subject;
        message.Date = time.GetUtcNow();
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(report.Submitter);
        message.Headers.Add("TLS-Report-Domain", report.Domain);
        message.Headers.Add("TLS-Report-Submitter", report.Submitter);
        message.Headers.Add("TLS-Required", "No");
        var body = new MultipartReport("tlsrpt");
        body.Add(new TextPart("plain")
        {
            Text = $"This is an aggregate TLS report (RFC 8460) from {report.Submitter} for {report.Domain}, " +
                   $"{report.Day:yyyy-MM-dd} (UTC). The report is attached as {report.FileName}.\r\n",
        });
        body.Add(new MimePart("application", "tlsrpt+gzip")
        {
            Content = new MimeContent(new MemoryStream(report.Gzip)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
            ContentTransferEncoding = ContentEncoding.Base64,
            FileName = report.FileName,
        });
        message.Body = body;
        if (_dkim is not null)
        {
            // Sign exactly what goes on the wire: 7-bit, so no relay has to re-encode (and break) it.
            message.Prepare(EncodingConstraint.SevenBit);
            _dkim.Sign(message, SignedHeaders);
        }
        return message;
    }

    public async Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct)
    {
        using var client = new SmtpClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        // Opportunistic STARTTLS to a local relay encrypts without verifying (like Postfix "may");
        // the explicit modes verify the server's certificate.
        if (options.Tls == Configuration.SmtpTls.StartTlsWhenAvailable)
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        var secure = options.Tls switch
        {
            Configuration.SmtpTls.None => SecureSocketOptions.None,
            Configuration.SmtpTls.StartTls => SecureSocketOptions.StartTls,
            Configuration.SmtpTls.Tls => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        MimeMessage message;
        try
        {
            message = Build(report, to.Address);
        }
        catch (ParseException ex)
        {
            return DeliveryResult.GiveUp($"'{to.Address}' is not a usable mail address: {ex.Message}");
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(options.Timeout);
        try
        {
            await client.ConnectAsync(options.Host, options.Port, secure, cts.Token);
            if (options.Username.Length > 0)
                await client.AuthenticateAsync(options.Username, options.Password, cts.Token);
            await client.SendAsync(message, cts.Token);
            await client.DisconnectAsync(true, cts.Token);
            return DeliveryResult.Ok;
        }
        catch (SmtpCommandException ex)
        {
            string error = $"SMTP {options.Host}:{options.Port} said {(int)ex.StatusCode} {ex.Message}";
            return (int)ex.StatusCode >= 500 ? DeliveryResult.GiveUp(error) : DeliveryResult.Retry(error);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"SMTP {options.Host}:{options.Port}: timed out after {options.Timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or SmtpProtocolException
            or System.Security.Authentication.AuthenticationException or MailKit.Security.AuthenticationException or SslHandshakeException)
        {
            return DeliveryResult.Retry($"SMTP {options.Host}:{options.Port}: {ex.Message}");
        }
    }
}
