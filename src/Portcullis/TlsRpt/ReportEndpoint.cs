using Microsoft.AspNetCore.Http;

namespace Portcullis.TlsRpt;

/// <summary>
/// The rua=https://… endpoint (RFC 8460 §3): POST a gzip or JSON report; 201 stored, 200 duplicate,
/// 4xx refused, 503 (Retry-After) when busy or the store is unavailable, 507 when the store is full.
/// </summary>
public static class ReportEndpoint
{
    /// <summary>Time for a sender to deliver the body, and for a queued report to get a worker.</summary>
    public static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(30), QueueTimeout = TimeSpan.FromSeconds(60);
    public const int BusyRetryAfterSeconds = 30;
    private static readonly string[] Types = ["application/tlsrpt+gzip", "application/tlsrpt+json", "application/json", "application/gzip"];

    public static async Task<IResult> HandleAsync(HttpContext http, ReportReceiver receiver, ReportIntake intake, int maxBodyBytes, TimeProvider time)
    {
        string type = (http.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (!Types.Contains(type))
            return Results.Text("content type must be application/tlsrpt+gzip or application/tlsrpt+json\n", statusCode: StatusCodes.Status415UnsupportedMediaType);
        if (http.Request.ContentLength > maxBodyBytes)
            return TooLarge(maxBodyBytes);
        if (!intake.TryEnter())
            return Busy(http, BusyRetryAfterSeconds, $"busy: {intake.Capacity} reports in progress; retry later");
        try
        {
            byte[]? body;
            using (var timeout = new CancellationTokenSource(BodyTimeout, time))
            using (var read = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, timeout.Token))
            {
                try
                {
                    body = await ReadAsync(http.Request.Body, (int)Math.Min(http.Request.ContentLength ?? 81920, maxBodyBytes), maxBodyBytes, read.Token);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    return Results.Text($"request body not received within {BodyTimeout.TotalSeconds} s\n", statusCode: StatusCodes.Status408RequestTimeout);
                }
            }
            if (body is null)
                return TooLarge(maxBodyBytes);
            (ReceiveOutcome Outcome, string Detail) result;
            using (var wait = new CancellationTokenSource(QueueTimeout, time))
            using (var queued = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, wait.Token))
            {
                try
                {
                    result = await intake.RunAsync(() => receiver.Receive(body), queued.Token);
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                    return Busy(http, BusyRetryAfterSeconds, "busy: no worker free in time; retry later");
                }
            }
            return result.Outcome switch
            {
                ReceiveOutcome.Stored => Results.Text(result.Detail + "\n", statusCode: StatusCodes.Status201Created),
                ReceiveOutcome.Duplicate => Results.Text(result.Detail + "\n", statusCode: StatusCodes.Status200OK),
                ReceiveOutcome.OverQuota => Results.Text(result.Detail + "\n", statusCode: StatusCodes.Status507InsufficientStorage),
                ReceiveOutcome.Unavailable => Busy(http, (int)ReportReceiver.StoreRetry.TotalSeconds, result.Detail),
                _ => Results.Text(result.Detail + "\n", statusCode: StatusCodes.Status400BadRequest),
            };
        }
        finally
        {
            intake.Leave();
        }
    }

    private static IResult TooLarge(int max) =>
        Results.Text($"report larger than {max} bytes\n", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult Busy(HttpContext http, int retryAfter, string detail)
    {
        http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Text(detail + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <returns>The body, or null when it is larger than <paramref name="max"/>.</returns>
    private static async Task<byte[]?> ReadAsync(Stream input, int expected, int max, CancellationToken ct)
    {
        using var body = new MemoryStream(expected);
        var buffer = new byte[16384];
        int n;
        while ((n = await input.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + n > max)
                return null;
            body.Write(buffer, 0, n);
        }
        return body.ToArray();
    }
}
