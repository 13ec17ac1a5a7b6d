using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Dns;
using Portcullis.Core.Dns;

namespace Portcullis.TlsRpt.Sending;

/// <summary>A report ready to send: RFC 8460 JSON, its gzip form and the §5.3 names.</summary>
public sealed record OutgoingReport(string ReportId, string Domain, DateOnly Day, string Submitter, string Json)
{
    public byte[] Gzip { get; } = ReportDocument.Gzip(Json);
    public string FileName => ReportDocument.FileName(Submitter, Domain, Day, ReportId.Split('@')[0]);
    public string Subject => ReportDocument.Subject(Domain, Submitter, ReportId);
}

/// <summary>What one delivery attempt did: delivered, or an error that is worth retrying or not.</summary>
public sealed record DeliveryResult(bool Delivered, bool Permanent, string? Error)
{
    public static readonly DeliveryResult Ok = new(true, false, null);
    public static DeliveryResult Retry(string error) => new(false, false, error);
    public static DeliveryResult Fail(string error) => new(false, true, error);
}

public interface IReportTransport
{
    Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct);
}

public sealed record SmtpOptions(string Host, int Port, Configuration.SmtpTls Tls, string Username, string Password, string MailFrom, TimeSpan Timeout)
{
    /// <summary>DKIM signing of report mails (RFC 8460 §5.3 requires a DKIM signature); null: the relay signs.</summary>
    public DkimOptions? Dkim { get; init; }
}

/// <summary>A PEM RSA private key file, the signing domain (d=) and selector (s=).</summary>
public sealed record DkimOptions(string KeyFile, string Domain, string Selector);

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
            return DeliveryResult.Fail($"'{to.Address}' is not a usable mail address: {ex.Message}");
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
            return (int)ex.StatusCode >= 500 ? DeliveryResult.Fail(error) : DeliveryResult.Retry(error);
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

/// <summary>
/// rua=https: (RFC 8460 §5.4): POST the gzip report as application/tlsrpt+gzip; 2xx is success.
/// The host is resolved through the configured resolver and, like policy fetches, refused on
/// non-public addresses (the URL comes from someone else's DNS). Redirects are not followed.
/// </summary>
public sealed class HttpsReportTransport : IReportTransport, IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public HttpsReportTransport(IDnsResolver dns, bool allowNonPublic, TimeSpan timeout)
    {
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions { EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 },
            ConnectCallback = (ctx, ct) => Http.PolicyFetcher.ConnectAsync(dns, ctx.DnsEndPoint, allowNonPublic, ct),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<DeliveryResult> DeliverAsync(OutgoingReport report, ReportDestination to, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_timeout);
        try
        {
            using var content = new ByteArrayContent(report.Gzip);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/tlsrpt+gzip");
            using var request = new HttpRequestMessage(HttpMethod.Post, to.Address) { Content = content, Version = HttpVersion.Version11 };
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Portcullis", "1.0"));
            using var response = await _http.SendAsync(request, cts.Token);
            int status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
                return DeliveryResult.Ok;
            string error = $"{to.Address}: HTTP {status}";
            // Client errors will not change on retry, except timeouts and rate limits.
            return status is >= 400 and < 500 and not 408 and not 429 ? DeliveryResult.Fail(error) : DeliveryResult.Retry(error);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"{to.Address}: timed out after {_timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return DeliveryResult.Retry($"{to.Address}: {Http.PolicyFetcher.Innermost(ex).Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}
