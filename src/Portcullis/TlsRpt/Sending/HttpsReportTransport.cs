using System.Net;
using System.Net.Http.Headers;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Core.Dns;

namespace Portcullis.TlsRpt.Sending;

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
        // Report endpoints are named by someone else's DNS, like policy hosts: the same SSRF rules, not a copy of them.
        var handler = Net.PublicOnlyConnector.CreateHandler(dns, allowNonPublic, TimeSpan.FromSeconds(10));
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
            return status is >= 400 and < 500 and not 408 and not 429 ? DeliveryResult.GiveUp(error) : DeliveryResult.Retry(error);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return DeliveryResult.Retry($"{to.Address}: timed out after {_timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return DeliveryResult.Retry($"{to.Address}: {Net.PublicOnlyConnector.Innermost(ex).Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}
