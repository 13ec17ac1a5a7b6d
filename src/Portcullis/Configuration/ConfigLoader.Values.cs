using System.Net;

namespace Portcullis.Configuration;

/// <summary>The value parsers validation uses (listeners, socket modes, HOST:PORT) and the tlsrpt.send rules.</summary>
public static partial class ConfigLoader
{
    /// <summary>A listener: TCP endpoint or unix socket path.</summary>
    public static (IPEndPoint? Tcp, string? UnixPath) ParseListen(string text, string key = "listen")
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text[5..];
            if (!Path.IsPathRooted(path))
                throw new ConfigException($"{key}: '{text}': unix socket path must be absolute");
            return (null, path);
        }
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            text = "127.0.0.1" + text[9..];
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port != 0)
            return (ep, null);
        throw new ConfigException($"{key}: '{text}' is not HOST:PORT (IP address) or unix:/path");
    }

    public static UnixFileMode ParseMode(string octal)
    {
        try
        {
            int mode = Convert.ToInt32(octal, 8);
            if (mode is < 0 or > 0x1FF)
                throw new FormatException();
            return (UnixFileMode)mode;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ConfigException($"socket_permissions: '{octal}' is not an octal mode such as 0660");
        }
    }

    private static void ValidateSend(TlsRptSendConfig s, List<string> errors)
    {
        if (!SmtpTlsNames.TryParse(s.SmtpTls, out _))
            errors.Add($"tlsrpt.send.smtp_tls: '{s.SmtpTls}' is not one of {string.Join(", ", SmtpTlsNames.All)}");
        if (!TryHostPort(s.SmtpServer, out _, out _))
            errors.Add($"tlsrpt.send.smtp_server: '{s.SmtpServer}' is not HOST:PORT");
        if (s.SendAfter < 0 || s.Spread < 0)
            errors.Add("tlsrpt.send.send_after and spread: must not be negative");
        foreach (var (key, value) in new[] { ("tlsrpt.send.retry_for", s.RetryFor), ("tlsrpt.send.retention_days", s.RetentionDays) })
        {
            if (value <= 0)
                errors.Add($"{key}: must be a positive number, not {value}");
        }
        if (s.DkimKeyFile.Length > 0 && (s.DkimSelector.Length == 0 || !File.Exists(s.DkimKeyFile)))
            errors.Add($"tlsrpt.send.dkim_key_file: '{s.DkimKeyFile}' must exist, and dkim_selector is required with it");
        if (!s.Enabled)
            return;
        if (s.OrganizationName.Length == 0)
            errors.Add("tlsrpt.send.organization_name: required when sending reports (RFC 8460 §4.4)");
        if (s.ContactInfo.Length == 0)
            errors.Add("tlsrpt.send.contact_info: required when sending reports (RFC 8460 §4.4), e.g. mailto:postmaster@example.net");
        if (s.MailFrom.Length == 0 || !s.MailFrom.Contains('@', StringComparison.Ordinal))
            errors.Add("tlsrpt.send.mail_from: required when sending reports: the From address of report mails");
    }

    /// <summary>HOST:PORT where HOST is a name or an IP address (IPv6 in brackets).</summary>
    public static bool TryHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            || port is 0 or > 65535)
            return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0 && Uri.CheckHostName(host) != UriHostNameType.Unknown;
    }
}
