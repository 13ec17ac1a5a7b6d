using System.Net;

namespace Portcullis.Configuration;

/// <summary>
/// A listener as configured, parsed once (validation has accepted the text): a TCP endpoint or a unix socket.
/// <see cref="Text"/> is the configured form, for messages.
/// </summary>
public abstract record ListenEndpoint(string Text)
{
    public sealed record Tcp(IPEndPoint EndPoint, string Text) : ListenEndpoint(Text);

    public sealed record Unix(string Path, string Text) : ListenEndpoint(Text);

    /// <summary>Throws <see cref="ConfigException"/> naming <paramref name="key"/> for text that is neither form.</summary>
    public static ListenEndpoint Parse(string text, string key = "listen") =>
        ConfigLoader.ParseListen(text, key) is ({ } tcp, _) ? new Tcp(tcp, text) : new Unix(ConfigLoader.ParseListen(text, key).UnixPath!, text);

    public static IReadOnlyList<ListenEndpoint> ParseAll(IEnumerable<string> texts, string key) => [.. texts.Select(t => Parse(t, key))];
}

/// <summary>Where the policy cache lives (<c>cache.type</c> with the keys that type uses).</summary>
public abstract record CacheBackend
{
    public sealed record Sqlite(string Path) : CacheBackend;

    public sealed record Redis(string Configuration, string KeyPrefix) : CacheBackend;

    public sealed record Postgres(string ConnectionString, string KeyPrefix) : CacheBackend;

    /// <summary>The backend named by a validated <c>cache.type</c>; <paramref name="sqlitePath"/> is the resolved cache.path.</summary>
    public static CacheBackend From(CacheConfig c, string sqlitePath) => c.Type switch
    {
        "redis" => new Redis(c.Redis, c.KeyPrefix),
        "postgres" => new Postgres(c.Postgres, c.KeyPrefix),
        _ => new Sqlite(sqlitePath),
    };
}

/// <summary>How report mails reach the relay (<c>tlsrpt.send.smtp_tls</c>).</summary>
public enum SmtpTls
{
    /// <summary>Plain SMTP.</summary>
    None,
    /// <summary>STARTTLS required, certificate verified.</summary>
    StartTls,
    /// <summary>STARTTLS if offered, certificate not verified (like Postfix "may"; the default, for a local relay).</summary>
    StartTlsWhenAvailable,
    /// <summary>TLS from the first byte (port 465), certificate verified.</summary>
    Tls,
}

public static class SmtpTlsNames
{
    private static readonly (string Name, SmtpTls Mode)[] Names =
        [("none", SmtpTls.None), ("starttls", SmtpTls.StartTls), ("starttls-when-available", SmtpTls.StartTlsWhenAvailable), ("tls", SmtpTls.Tls)];

    public static IEnumerable<string> All => Names.Select(n => n.Name);

    public static bool TryParse(string text, out SmtpTls mode)
    {
        foreach (var (name, m) in Names)
        {
            if (name == text)
            {
                mode = m;
                return true;
            }
        }
        mode = default;
        return false;
    }
}
