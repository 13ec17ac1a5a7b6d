using Microsoft.AspNetCore.Http;

namespace Portcullis.TlsRpt;

/// <summary>The rua=https://… endpoint (RFC 8460 §3): POST a gzip or JSON report; 201 stored, 200 duplicate, 4xx refused.</summary>
public static class ReportEndpoint
{
    private static readonly string[] Types = ["application/tlsrpt+gzip", "application/tlsrpt+json", "application/json", "application/gzip"];

    public static async Task<IResult> HandleAsync(HttpContext http, ReportReceiver receiver)
    {
        string type = (http.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (!Types.Contains(type))
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        if (http.Request.ContentLength > ReportInput.MaxReportBytes)
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, n);
            if (body.Length > ReportInput.MaxReportBytes)
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }
        var (outcome, detail) = receiver.Receive(body.ToArray());
        return outcome switch
        {
            ReceiveOutcome.Stored => Results.Text(detail + "\n", statusCode: StatusCodes.Status201Created),
            ReceiveOutcome.Duplicate => Results.Text(detail + "\n", statusCode: StatusCodes.Status200OK),
            _ => Results.Text(detail + "\n", statusCode: StatusCodes.Status400BadRequest),
        };
    }
}
