using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;

namespace Portcullis.Http;

public sealed record FetchLimits
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Whole fetch, DNS to last byte; well under Postfix's 100 s socketmap timeout.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public int MaxBodyBytes { get; init; } = StsPolicyParser.MaxBodyBytes;
    /// <summary>Fetch from loopback/private/special addresses too (tests only; see AddressScope).</summary>
    public bool AllowNonPublicAddresses { get; init; }

}

/// <summary>
/// Fetches <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c> the way RFC 8461 §3.3 demands:
/// Web PKI only, 200 only, no redirects, no HTTP caching, text/plain, bounded size and time.
/// The policy host is resolved through the configured resolver, not the system one.
/// </summary>
public sealed class PolicyFetcher : IPolicyFetcher, IDisposable
{
    private readonly HttpClient _http;
    private readonly FetchLimits _limits;
    private readonly TimeProvider _time;

    public PolicyFetcher(IDnsResolver dns, FetchLimits limits, TimeProvider time)
    {
        _limits = limits;
        _time = time;
        var handler = Net.PublicOnlyConnector.CreateHandler(dns, limits.AllowNonPublicAddresses, limits.ConnectTimeout);
        handler.MaxResponseHeadersLength = 16;
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<FetchReport> FetchAsync(string domain, CancellationToken ct)
    {
        string host = "mta-sts." + domain;
        string url = $"https://{host}/.well-known/mta-sts.txt";
        long start = _time.GetTimestamp();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_limits.TotalTimeout);
        int? status = null;
        string? contentType = null;
        long bytes = 0;
        FetchReport Report(FetchOutcome o, string? body = null) =>
            new(o, url, status, contentType, bytes, body, _time.GetElapsedTime(start));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11 };
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Portcullis", "1.0"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            status = (int)response.StatusCode;
            contentType = response.Content.Headers.ContentType?.ToString();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                string what = status is >= 300 and < 400
                    ? $"HTTP {status} redirect to {response.Headers.Location} (redirects are not followed, RFC 8461 §3.3)"
                    : $"HTTP {status} (only 200 is valid)";
                return Report(FetchOutcome.Failed(StsFailureType.FetchError, what));
            }
            if (!string.Equals(response.Content.Headers.ContentType?.MediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
            {
                return Report(FetchOutcome.Failed(StsFailureType.PolicyInvalid,
                    $"Content-Type is {contentType ?? "missing"}, not text/plain"));
            }
            if (response.Content.Headers.ContentLength > _limits.MaxBodyBytes)
            {
                bytes = response.Content.Headers.ContentLength.Value;
                return Report(FetchOutcome.Failed(StsFailureType.PolicyInvalid,
                    $"Content-Length {bytes} exceeds {_limits.MaxBodyBytes} bytes"));
            }
            var (body, total) = await ReadBoundedAsync(response, cts.Token);
            bytes = total;
            if (body is null)
            {
                return Report(FetchOutcome.Failed(StsFailureType.PolicyInvalid,
                    $"body exceeds {_limits.MaxBodyBytes} bytes"));
            }
            var parsed = StsPolicyParser.Parse(body);
            string text = System.Text.Encoding.UTF8.GetString(body);
            return parsed.Policy is { } policy
                ? Report(FetchOutcome.Ok(policy, $"HTTP 200, {bytes} bytes, mode {StsModeNames.ToWire(policy.Mode)}, max_age {policy.MaxAgeSeconds}"), text)
                : Report(FetchOutcome.Failed(StsFailureType.PolicyInvalid, "invalid policy: " + parsed.Error), text);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Report(FetchOutcome.Failed(StsFailureType.FetchError,
                $"timed out after {_limits.TotalTimeout.TotalSeconds:0.#} s"));
        }
        catch (HttpRequestException ex) when (FindInner<AuthenticationException>(ex) is { } auth)
        {
            return Report(FetchOutcome.Failed(StsFailureType.WebPkiInvalid,
                $"TLS certificate for {host} not valid: {auth.Message}"));
        }
        catch (HttpRequestException ex)
        {
            return Report(FetchOutcome.Failed(StsFailureType.FetchError, $"{host}: {Net.PublicOnlyConnector.Innermost(ex).Message}"));
        }
        catch (IOException ex)
        {
            return Report(FetchOutcome.Failed(StsFailureType.FetchError, $"{host}: {Net.PublicOnlyConnector.Innermost(ex).Message}"));
        }
    }

    /// <summary>Reads at most MaxBodyBytes; null when the body is longer, whatever Content-Length said.</summary>
    private async Task<(byte[]? Body, long Bytes)> ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[_limits.MaxBodyBytes + 1];
        int total = 0;
        while (true)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(total), ct);
            if (n == 0)
                return (buffer[..total], total);
            total += n;
            if (total > _limits.MaxBodyBytes)
                return (null, total);
        }
    }

    private static T? FindInner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t)
                return t;
        }
        return null;
    }

    public void Dispose() => _http.Dispose();
}
