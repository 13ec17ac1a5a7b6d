namespace Portcullis.Configuration;

/// <summary>
/// The rules of TLS-RPT (receiving, collecting, sending, the received-report store) and of the operator console,
/// whose listeners and secrets are checked between receiving and collecting, as they always were.
/// </summary>
internal static class TlsRptRules
{
    public static void Validate(PortcullisConfig c, ConfigErrors e)
    {
        var t = c.Tlsrpt;
        e.TcpListeners("tlsrpt.receive_listen", t.ReceiveListen);
        foreach (string l in c.Console.Listen)
            e.Try(() => ConfigLoader.ParseListen(l, "console.listen"));
        // The secrets themselves are read when the daemon starts (Hosting/OperatorConsole/ConsoleAuth).
        foreach (var (key, file) in new[] { ("console.token_file", c.Console.TokenFile), ("console.password_file", c.Console.PasswordFile) })
        {
            if (file.Length > 0 && c.Console.Listen.Count == 0)
                e.Err($"{key}: set, but console.listen is empty (the console is off)");
        }
        e.Positive("tlsrpt.receive_workers", t.ReceiveWorkers);
        // These two stop validation at once, with this error alone.
        if (t.ReceiveQueue < 0)
            throw new ConfigException("tlsrpt.receive_queue: must not be negative");
        if (t.ReceiveMaxBytes is < 1024 or > TlsRpt.ReportInput.MaxReportBytes)
            throw new ConfigException($"tlsrpt.receive_max_bytes: between 1024 and {TlsRpt.ReportInput.MaxReportBytes}");
        e.Positive("tlsrpt.receive_quota_mb", t.ReceiveQuotaMb);
        if ((t.ReceiveCertificate.Length == 0) != (t.ReceiveKey.Length == 0))
            e.Err("tlsrpt.receive_certificate and tlsrpt.receive_key go together");
        if (t.CollectSocket.Length > 0 && !Path.IsPathRooted(t.CollectSocket))
            e.Err($"tlsrpt.collect_socket: '{t.CollectSocket}' must be an absolute path");
        Send(t.Send, e);
        if (t.Store is not ("sqlite" or "postgres"))
            e.Err($"tlsrpt.store: '{t.Store}' is not sqlite or postgres");
        if (t.Store == "postgres" && t.Postgres.Length == 0 && c.Cache.Postgres.Length == 0)
            e.Err("tlsrpt.postgres: required with tlsrpt.store postgres (an Npgsql connection string), or set cache.postgres");
    }

    private static void Send(TlsRptSendConfig s, ConfigErrors e)
    {
        if (!SmtpTlsNames.TryParse(s.SmtpTls, out _))
            e.Err($"tlsrpt.send.smtp_tls: '{s.SmtpTls}' is not one of {string.Join(", ", SmtpTlsNames.All)}");
        if (!ConfigLoader.TryHostPort(s.SmtpServer, out _, out _))
            e.Err($"tlsrpt.send.smtp_server: '{s.SmtpServer}' is not HOST:PORT");
        if (s.SendAfter < 0 || s.Spread < 0)
            e.Err("tlsrpt.send.send_after and spread: must not be negative");
        e.Positive("tlsrpt.send.retry_for", s.RetryFor);
        e.Positive("tlsrpt.send.retention_days", s.RetentionDays);
        if (s.DkimKeyFile.Length > 0 && (s.DkimSelector.Length == 0 || !File.Exists(s.DkimKeyFile)))
            e.Err($"tlsrpt.send.dkim_key_file: '{s.DkimKeyFile}' must exist, and dkim_selector is required with it");
        if (!s.Enabled)
            return;
        if (s.OrganizationName.Length == 0)
            e.Err("tlsrpt.send.organization_name: required when sending reports (RFC 8460 §4.4)");
        if (s.ContactInfo.Length == 0)
            e.Err("tlsrpt.send.contact_info: required when sending reports (RFC 8460 §4.4), e.g. mailto:postmaster@example.net");
        if (s.MailFrom.Length == 0 || !s.MailFrom.Contains('@', StringComparison.Ordinal))
            e.Err("tlsrpt.send.mail_from: required when sending reports: the From address of report mails");
    }
}
