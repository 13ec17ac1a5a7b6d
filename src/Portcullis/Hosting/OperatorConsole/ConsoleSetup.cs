using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portcullis.Configuration;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>The console's services, and what must exist before the daemon takes traffic.</summary>
public static class ConsoleSetup
{
    public static void AddServices(IServiceCollection services, Settings settings)
    {
        services.AddSingleton(_ => settings.Config.Console.Listen.Count > 0 ? ConsoleAuth.Load(settings) : ConsoleAuth.Open);
        services.AddSingleton<ConsoleStats>();
        services.AddSingleton<ConsoleApi>();
        // The daemon always registers its own-domain monitor (idle when monitoring is off or there are no own domains).
        services.TryAddSingleton<IReadinessSource>(sp => sp.GetService<Jobs.OwnDomainMonitor>() is { } monitor
            ? new MonitorReadiness(monitor, sp.GetRequiredService<TimeProvider>()) : new NoReadiness());
    }

    /// <summary>The console's unix sockets are the daemon user's only (mode 0600), like the control socket.</summary>
    public static bool IsConsoleSocket(Settings settings, string path) =>
        settings.ConsoleListen.OfType<ListenEndpoint.Unix>().Any(u => u.Path == path);

    /// <summary>Reads the credentials (a bad file stops the start with one line) and starts counting before the first query.</summary>
    public static void Start(IServiceProvider services, Settings settings)
    {
        if (settings.Config.Console.Listen.Count == 0)
            return;
        _ = services.GetRequiredService<ConsoleAuth>();
        _ = services.GetRequiredService<ConsoleStats>();
    }
}
