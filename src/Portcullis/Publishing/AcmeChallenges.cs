namespace Portcullis.Publishing;

/// <summary>
/// ACME HTTP-01 challenge responses (RFC 8555 §8.3) from the directory that <c>certbot --webroot -w DIR</c>
/// writes into (<c>DIR/.well-known/acme-challenge/TOKEN</c>). Only base64url tokens, only small files.
/// </summary>
public sealed class AcmeChallenges(string webroot)
{
    public const string PathPrefix = "/.well-known/acme-challenge/";
    /// <summary>Longest token accepted (RFC 8555 tokens are 43 characters for 256 bits of entropy).</summary>
    public const int MaxTokenChars = 128;
    /// <summary>Largest response file served: a key authorisation is token + "." + 43-character thumbprint.</summary>
    public const int MaxResponseBytes = 1024;

    private readonly string _dir = Path.Combine(webroot, ".well-known", "acme-challenge");

    public static bool IsToken(string token) =>
        token.Length is > 0 and <= MaxTokenChars && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>The response file's bytes, or null (no such challenge, not a token, too large, unreadable).</summary>
    public byte[]? Read(string token)
    {
        if (!IsToken(token))
            return null;
        try
        {
            var file = new FileInfo(Path.Combine(_dir, token));
            return file.Exists && file.Length <= MaxResponseBytes ? File.ReadAllBytes(file.FullName) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
