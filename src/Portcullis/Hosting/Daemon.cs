using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Portcullis.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Dns;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Resolution;
using Portcullis.Hosting.Control;
using Portcullis.Hosting.Http;
using Portcullis.Hosting.Jobs;
using Portcullis.Hosting.Socketmap;
using Portcullis.TlsRpt;

namespace Portcullis.Hosting;

/// <summary>
/// The <c>serve</c> daemon's start-up order: socket paths checked, ports probed, services (<see cref="ServiceRegistration"/>)
/// and listeners (<see cref="Listeners"/>) set up, the resolver self-test, start, socket modes, SIGHUP, then wait.
/// </summary>
public static class Daemon
{
    public static async Task<int> RunAsync(Settings settings, string? configPath, CancellationToken ct)
    {
        var config = settings.Config;
        // Under socket activation (portcullis.socket) systemd hands over the socketmap sockets.
        bool activated = Environment.GetEnvironmentVariable("LISTEN_FDS") is { Length: > 0 }
            && Environment.GetEnvironmentVariable("LISTEN_PID") == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Before anything binds: a socket path another daemon answers on, or that holds a file, stops the start.
        foreach (var unix in (activated ? [] : settings.Listen).OfType<ListenEndpoint.Unix>())
            await UnixSocketFiles.PrepareAsync(unix.Path, System.Net.Sockets.SocketType.Stream, "listen", ct);
        foreach (var unix in settings.ConsoleListen.OfType<ListenEndpoint.Unix>())
            await UnixSocketFiles.PrepareAsync(unix.Path, System.Net.Sockets.SocketType.Stream, "console.listen", ct);
        if (config.Tlsrpt.CollectSocket.Length > 0)
            await UnixSocketFiles.PrepareAsync(config.Tlsrpt.CollectSocket, System.Net.Sockets.SocketType.Dgram, "tlsrpt.collect_socket", ct);
        bool control = settings.ControlSocket is { } controlPath && await PrepareControlSocketAsync(controlPath, ct);
        ListenFailure.Probe([.. (activated ? [] : settings.Listen).Concat(settings.MetricsListen).Concat(settings.ReportListen).Concat(settings.ConsoleListen)
            .OfType<ListenEndpoint.Tcp>().Select(l => l.EndPoint)]);
        var builder = KestrelHost.CreateBuilder(config.LogLevel);
        builder.Services.AddPortcullis(settings);
        builder.Services.AddSingleton(sp => new LiveSettings(settings, configPath, sp.GetRequiredService<ILogger<LiveSettings>>()));

        var unixSockets = new List<string>();
        var socketmapEndpoints = new HashSet<string>(StringComparer.Ordinal);
        ListenerGates.Configure(builder, settings, socketmapEndpoints);
        builder.WebHost.ConfigureKestrel(k => Listeners.Configure(k, settings, activated, control, unixSockets, socketmapEndpoints));

        await using var app = builder.Build();
        // Each HTTP listener serves only its own purpose: metrics /metrics, report listeners POSTs, the console its pages and API.
        app.Run(HttpRouting.DispatchAsync);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis");
        // Create the exporter before the first measurement, then expose the gauges.
        _ = app.Services.GetRequiredService<PrometheusExporter>();
        OperatorConsole.ConsoleSetup.Start(app.Services, settings);
        var memory = app.Services.GetRequiredService<PolicyMemory>();
        var health = app.Services.GetRequiredService<ResolverHealth>();
        app.Services.GetRequiredService<PortcullisMetrics>().ObserveGauges(() => memory.CachedDomains, () => health.Validates ? 1 : 0);
        // Open the TLS-RPT database now: a path that cannot hold it fails the start with one line, not every request later.
        if (config.Tlsrpt.ReceiveListen.Count > 0 && config.Tlsrpt.Store == "sqlite")
            Configuration.DataFiles.PrepareDatabase(settings.ReportsDatabase, "tlsrpt.reports_database");
        if (config.Tlsrpt.CollectSocket.Length > 0 || config.Tlsrpt.Send.Enabled)
            _ = app.Services.GetRequiredService<Storage.Sessions.SessionStore>();
        // The first self-test runs while the listeners start: answers from the cache need no resolver, and a lookup
        // that needs one joins this test (ResolverHealth.TrustAsync) rather than deciding before it, so no verdict is
        // capped for want of it. A resolver that does not answer costs its timeout in lookups, not in the start.
        _ = health.CheckAsync(ct).ContinueWith(t => log.LogError(t.Exception!.GetBaseException(), "Resolver self-test could not run"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        // Sockets are created 0600 under a restrictive umask and widened to socket_permissions only once bound.
        using (UnixSocketFiles.RestrictiveUmask())
        {
            try
            {
                await app.StartAsync(ct);
            }
            catch (IOException ex) when (ListenFailure.From(ex) is { } failure)
            {
                await app.StopAsync(CancellationToken.None); // the services already started end cleanly, not as failures
                throw failure;
            }
            var mode = ConfigLoader.ParseMode(config.SocketPermissions);
            foreach (string path in unixSockets)
                File.SetUnixFileMode(path, path == settings.ControlSocket || OperatorConsole.ConsoleSetup.IsConsoleSocket(settings, path)
                    ? UnixFileMode.UserRead | UnixFileMode.UserWrite : mode);
        }
        var live = app.Services.GetRequiredService<LiveSettings>();
        using var hup = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true; // SIGHUP reloads; it must not stop the daemon
                live.Reload();
            });
        foreach (string listener in ListenerSummary.Describe(settings, activated, control))
            log.LogInformation("Listener: {Listener}", listener);
        if (config.Tlsrpt.ReportPolicyFailures is not null)
            log.LogWarning("tlsrpt.report_policy_failures is ignored and can be removed: Postfix 3.10 turns policy_failure answers into wrong TLS-RPT reports (see README)");
        log.LogInformation("Portcullis listening on {Listen}; resolver {Dns}; cache {Cache}; configuration {Config}; data {DataDir}",
            activated ? "sockets from systemd" : string.Join(", ", config.Listen), settings.DnsServer,
            settings.Cache is CacheBackend.Sqlite sqlite ? sqlite.Path : config.Cache.Type, configPath ?? "built-in defaults", settings.DataDir);
        await app.WaitForShutdownAsync(ct);
        log.LogInformation("Portcullis stopped");
        return 0;
    }

    /// <summary>Removes a stale control socket; one that a running daemon still answers on stays its (the cache
    /// commands reach that daemon) and this one runs without.</summary>
    private static async Task<bool> PrepareControlSocketAsync(string path, CancellationToken ct)
    {
        try
        {
            await UnixSocketFiles.PrepareAsync(path, System.Net.Sockets.SocketType.Stream, "control_socket", ct, DataFiles.DirectoryMode);
            return true;
        }
        catch (StartupException ex) when (ex.ExitCode == ExitCodes.Unavailable)
        {
            Console.Error.WriteLine($"portcullis: control socket {path} is in use by another daemon; cache commands will reach that one");
            return false;
        }
    }
}
