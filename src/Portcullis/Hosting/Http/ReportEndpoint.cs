using Microsoft.AspNetCore.Http;
using Portcullis.TlsRpt;

namespace Portcullis.Hosting.Http;

/// <summary>
/// The rua=https://… endpoint (RFC 8460 §3): POST a gzip or JSON report; 201 stored, 200 duplicate,
/// 4xx refused, 503 (Retry-After) when busy or the store is unavailable, 507 when the store is full.
/// </summary>
public static class ReportEndpoint
{
    /// <summary>Time for a sender to deliver the body, and for a queued report to get a worker.</summary>
    public static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(30), QueueTimeout = TimeSpan.FromSeconds(60);
    public const int BusyRetryAfterSeconds = 30;

    /// <summary>A refused sender waits about this long (±50 %, so refused clients do not come back in step) for its
    /// 503: costs nothing here (no thread, no body read) and keeps a client that ignores Retry-After from turning
    /// refusals into a request flood.</summary>
    public static readonly TimeSpan RefusalDelay = TimeSpan.FromSeconds(1);
    private static readonly string[] Types = ["application/tlsrpt+gzip", "application/tlsrpt+json", "application/json", "application/gzip"];

    public static async Task<IResult> HandleAsync(HttpContext http, ReportReceiver receiver, ReportIntake intake, int maxBodyBytes, TimeProvider time)
    {
        string type = (http.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (!Types.Contains(type))
            return Results.Text("content type must be application/tlsrpt+gzip or application/tlsrpt+json\n", statusCode: StatusCodes.Status415UnsupportedMediaType);
        if (http.Request.ContentLength > maxBodyBytes)
            return TooLarge(maxBodyBytes);
        if (!intake.TryEnter())
        {
            try
            {
                await Task.Delay(RefusalDelay * (0.5 + Random.Shared.NextDouble()), time, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client left; the answer goes nowhere.
            }
            return Busy(http, BusyRetryAfterSeconds, $"busy: {intake.Capacity} reports in progress; retry later");
        }
        try
        {
            byte[] buffer = intake.Bodies.Rent((int)Math.Min(maxBodyBytes, http.Request.ContentLength ?? maxBodyBytes) + 1);
            try
            {
                return await ReceiveAsync(http, receiver, intake, maxBodyBytes, time, buffer);
            }
            finally
            {
                intake.Bodies.Return(buffer);
            }
        }
        finally
        {
            intake.Leave();
        }
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, ReportReceiver receiver, ReportIntake intake, int maxBodyBytes,
        TimeProvider time, byte[] buffer)
    {
        int length;
        using (var timeout = new CancellationTokenSource(BodyTimeout, time))
        using (var read = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, timeout.Token))
        {
            try
            {
                // One byte more than allowed (or than announced) tells a too large body.
                length = await http.Request.Body.ReadAtLeastAsync(buffer, buffer.Length, false, read.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return Results.Text($"request body not received within {BodyTimeout.TotalSeconds} s\n", statusCode: StatusCodes.Status408RequestTimeout);
            }
        }
        if (length > maxBodyBytes || length > http.Request.ContentLength)
            return TooLarge(maxBodyBytes);
        var body = buffer.AsMemory(0, length);
        (ReceiveOutcome Outcome, string Detail) result;
        using (var wait = new CancellationTokenSource(QueueTimeout, time))
        using (var queued = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, wait.Token))
        {
            try
            {
                result = await intake.RunAsync(scratch => receiver.Receive(body, scratch), queued.Token);
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

    private static IResult TooLarge(int max) =>
        Results.Text($"report larger than {max} bytes\n", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult Busy(HttpContext http, int retryAfter, string detail)
    {
        http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The body was not read: closing spares receiving (draining) it, which would cost more than the refusal.
        http.Response.Headers.Connection = "close";
        return Results.Text(detail + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
