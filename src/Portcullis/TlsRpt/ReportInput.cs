using System.IO.Compression;
using MimeKit;

namespace Portcullis.TlsRpt;

/// <summary>
/// Turns what arrives (a POST body, a file, a mail message) into report JSON: gzip is unpacked with
/// a size bound (a report is small; a zip bomb is not), mail is searched for tlsrpt parts.
/// </summary>
public static class ReportInput
{
    /// <summary>Largest report after gunzip (a zip bomb stops here).</summary>
    public const int MaxReportBytes = 10 * 1024 * 1024;

    public static bool IsGzip(ReadOnlySpan<byte> body) => body.Length >= 2 && body[0] == 0x1f && body[1] == 0x8b;

    /// <summary>The form a report is kept in: reports are repetitive JSON, gzip makes them a fraction.</summary>
    public static byte[] Gzip(ReadOnlySpan<byte> json)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, true))
            gz.Write(json);
        return ms.ToArray();
    }

    /// <returns>The JSON bytes, or null with a reason.</returns>
    /// <param name="scratch">A reused buffer of MaxReportBytes + 1 to unpack into (the JSON is then only valid until its next use).</param>
    public static (ReadOnlyMemory<byte>? Json, string? Error) Decode(ReadOnlyMemory<byte> body, byte[]? scratch = null)
    {
        if (!IsGzip(body.Span))
            return (body, null);
        try
        {
            using var gz = new GZipStream(AsStream(body), CompressionMode.Decompress);
            if (scratch is not null)
            {
                int length = gz.ReadAtLeast(scratch, scratch.Length, throwOnEndOfStream: false);
                return length > MaxReportBytes ? (null, $"uncompressed report larger than {MaxReportBytes} bytes") : (scratch.AsMemory(0, length), null);
            }
            // Sized for typical JSON compression up front, returned without a final copy.
            using var output = new MemoryStream((int)Math.Min(MaxReportBytes, body.Length * 8L));
            var buffer = new byte[81920];
            int n;
            while ((n = gz.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
                if (output.Length > MaxReportBytes)
                    return (null, $"uncompressed report larger than {MaxReportBytes} bytes");
            }
            return (output.GetBuffer().AsMemory(0, (int)output.Length), null);
        }
        catch (InvalidDataException ex)
        {
            return (null, "bad gzip data: " + ex.Message);
        }
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var a) ? new MemoryStream(a.Array!, a.Offset, a.Count, false)
            : new MemoryStream(bytes.ToArray());

    /// <summary>Report bodies attached to a mail (RFC 8460 §5.3: multipart/report; report-type="tlsrpt").</summary>
    public static IEnumerable<(ReadOnlyMemory<byte>? Json, string? Error)> FromMail(Stream message)
    {
        var mail = MimeMessage.Load(message);
        foreach (var part in mail.BodyParts.OfType<MimePart>())
        {
            string type = part.ContentType.MimeType.ToLowerInvariant();
            string name = part.FileName ?? "";
            bool report = type is "application/tlsrpt+gzip" or "application/tlsrpt+json"
                || name.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            if (!report || part.Content is null)
                continue;
            using var raw = new MemoryStream();
            part.Content.DecodeTo(raw);
            yield return Decode(raw.ToArray());
        }
    }
}
