using System.Text.Json;

namespace Portcullis.Core.TlsRpt;

/// <summary>What the TLS-RPT parsers (reports and libtlsrpt datagrams) share: untrusted JSON in, a
/// value or a reason out, never an exception.</summary>
internal static class JsonInput
{
    public static (T? Value, string? Error) Parse<T>(ReadOnlySpan<byte> json, int maxDepth, Func<JsonElement, (T?, string?)> read)
        where T : class => Parse(new ReadOnlyMemory<byte>(json.ToArray()), maxDepth, read);

    /// <summary>Parses in place: a large report is not copied once more.</summary>
    public static (T? Value, string? Error) Parse<T>(ReadOnlyMemory<byte> json, int maxDepth, Func<JsonElement, (T?, string?)> read)
        where T : class
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth });
            return read(doc.RootElement);
        }
        catch (JsonException ex)
        {
            return (null, "not JSON: " + ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            // JsonDocument validates structure but decodes string bytes only when read.
            return (null, "invalid UTF-8 in a string: " + ex.Message);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>Tokens in <paramref name="json"/>, counting stops after <paramref name="max"/>; malformed JSON counts what precedes
    /// the error (the parser then reports it).</summary>
    public static int CountTokens(ReadOnlySpan<byte> json, int max)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        int n = 0;
        try
        {
            while (n <= max && reader.Read())
                n++;
        }
        catch (JsonException)
        {
        }
        return n;
    }

    /// <summary>A non-empty string property, else null.</summary>
    public static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
