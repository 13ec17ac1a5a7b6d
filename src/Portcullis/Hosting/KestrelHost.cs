using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Portcullis.Hosting;

/// <summary>
/// The host both long-running commands (<c>serve</c>, <c>policy-host</c>) build on: Kestrel's core with nothing the
/// configuration file does not say. No appsettings.json from the working directory, no ASPNETCORE_/DOTNET_
/// environment configuration, no file watcher: a daemon started from / must not pick up listeners or log levels
/// from there. Also the cheaper start: fewer services for the AOT binary's dependency injection to build.
/// </summary>
public static class KestrelHost
{
    /// <param name="routing">Endpoint routing (policy-host maps its paths; serve dispatches by listener).</param>
    public static WebApplicationBuilder CreateBuilder(string logLevel, bool routing = false)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "portcullis" });
        builder.WebHost.UseKestrelCore();
        if (routing)
            builder.Services.AddRoutingCore();
        builder.Host.UseSystemd();
        ConsoleLogging.Configure(builder.Logging, logLevel);
        return builder;
    }
}
