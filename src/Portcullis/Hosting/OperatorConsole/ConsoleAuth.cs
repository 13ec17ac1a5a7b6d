using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portcullis.Configuration;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// Who may use the console: a bearer token (<c>console.token_file</c>) and/or HTTP basic credentials
/// (<c>console.password_file</c>, one line <c>USER:PASSWORD</c>), read once at start. Secrets are compared as
/// SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither their length nor a
/// matching prefix shows in the time an answer takes.
/// </summary>
public sealed class ConsoleAuth
{
    private readonly byte[]? _token;
    private readonly byte[]? _basic; // digest of "USER:PASSWORD"

    private ConsoleAuth(byte[]? token, byte[]? basic)
    {
        _token = token;
        _basic = basic;
    }

    public static readonly ConsoleAuth Open = new(null, null);

    /// <summary>Without a credential the console trusts whoever reaches its listener.</summary>
    public bool Required => _token is not null || _basic is not null;

    /// <summary>Reads the configured files; a missing, unreadable or empty one stops the start with one line.</summary>
    public static ConsoleAuth Load(Settings settings)
    {
        var c = settings.Config.Console;
        byte[]? token = c.TokenFile.Length > 0 ? Digest(Read(settings.InDataDir(c.TokenFile), "console.token_file", basic: false)) : null;
        byte[]? basic = c.PasswordFile.Length > 0 ? Digest(Read(settings.InDataDir(c.PasswordFile), "console.password_file", basic: true)) : null;
        return new ConsoleAuth(token, basic);
    }

    public static ConsoleAuth FromSecrets(string? token, string? userPassword) =>
        new(token is null ? null : Digest(token), userPassword is null ? null : Digest(userPassword));

    private static string Read(string path, string key, bool basic)
    {
        string text;
        try
        {
            text = File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{key}: cannot read {path}: {ex.Message}",
                ex is UnauthorizedAccessException ? ExitCodes.NoPermission : ExitCodes.Config);
        }
        if (text.Length == 0)
            throw new StartupException($"{key}: {path} is empty; it must hold {(basic ? "USER:PASSWORD" : "the token")} on its first line", ExitCodes.Config);
        if (basic && text.IndexOf(':', StringComparison.Ordinal) is < 1)
            throw new StartupException($"{key}: {path} must hold USER:PASSWORD on its first line", ExitCodes.Config);
        return text;
    }

    /// <summary>True when the request carries a configured credential (or none is configured).</summary>
    public bool Allows(HttpRequest request)
    {
        if (!Required)
            return true;
        string header = request.Headers.Authorization.ToString();
        if (_token is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return CryptographicOperations.FixedTimeEquals(Digest(header[7..].Trim()), _token);
        if (_basic is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                return CryptographicOperations.FixedTimeEquals(Digest(pair), _basic);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>401 with the schemes this console accepts.</summary>
    public IResult Challenge(HttpContext http)
    {
        if (_token is not null)
            http.Response.Headers.Append("WWW-Authenticate", "Bearer realm=\"portcullis console\"");
        if (_basic is not null)
            http.Response.Headers.Append("WWW-Authenticate", "Basic realm=\"portcullis console\", charset=\"UTF-8\"");
        return Results.Text("{\"error\":\"authentication required\"}\n", "application/json", statusCode: (int)HttpStatusCode.Unauthorized);
    }

    private static byte[] Digest(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
