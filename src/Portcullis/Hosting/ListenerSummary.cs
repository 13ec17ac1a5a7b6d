using Portcullis.Configuration;

namespace Portcullis.Hosting;

/// <summary>Every listener the daemon serves, for the start-up log: an administrator sees what is exposed where.</summary>
public static class ListenerSummary
{
    public static IEnumerable<string> Describe(Settings settings, bool activated, bool control)
    {
        var c = settings.Config;
        string mode = "mode " + c.SocketPermissions;
        if (activated)
            yield return "socketmap on sockets from systemd";
        foreach (var listen in activated ? [] : settings.Listen)
            yield return listen is ListenEndpoint.Unix unix ? $"socketmap on unix:{unix.Path} ({mode})" : $"socketmap on {listen.Text}";
        if (control)
            yield return $"control (cache commands) on unix:{settings.ControlSocket} (mode 0600)";
        foreach (string listen in c.Metrics.Listen)
            yield return $"metrics (GET /metrics) on http://{listen}";
        string scheme = c.Tlsrpt.ReceiveCertificate.Length > 0 ? "https" : "http";
        foreach (string listen in c.Tlsrpt.ReceiveListen)
            yield return $"TLS-RPT reports (POST, summary page) on {scheme}://{listen}";
        if (c.Tlsrpt.CollectSocket.Length > 0)
            yield return $"TLS-RPT collector (datagrams from Postfix) on unix:{c.Tlsrpt.CollectSocket} ({mode})";
    }
}
