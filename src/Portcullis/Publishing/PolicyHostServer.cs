using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;

namespace Portcullis.Publishing;

/// <summary>
/// `policy-host`: serves <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c> for every domain in
/// <c>publish.domains</c>. The SNI name picks the certificate, the Host header the policy; anything
/// else is 404.
/// </summary>
public static class PolicyHostServer
{
    public const string PolicyPath = "/.well-known/mta-sts.txt";

    public static async Task<int> RunAsync(Settings settings, CancellationToken ct)
    {
        var domains = settings.PublishedDomains;
        if (domains.Count == 0)
        {
            await Console.Error.WriteLineAsync("portcullis: publish.domains is empty: nothing to serve");
            return 78;
        }
        foreach (var (domain, (_, cfg)) in domains)
        {
            if (cfg.Certificate.Length == 0 || cfg.Key.Length == 0)
            {
                await Console.Error.WriteLineAsync($"portcullis: publish.domains.{domain}: certificate and key are required for policy-host");
                return 78;
            }
            // Refuse to start rather than fail every handshake later (renewals are re-read while running).
            if (CertificateFiles.Check(cfg.Certificate, cfg.Key) is { } problem)
            {
                await Console.Error.WriteLineAsync($"portcullis: publish.domains.{domain}: {problem.Message}");
                return problem.ExitCode;
            }
        }
        Server.ListenFailure.Probe([.. settings.Config.Publish.Listen.Select(l => ConfigLoader.ParseListen(l).Tcp!)]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseSystemd();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSingleton<CertificateFiles>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            var certs = k.ApplicationServices.GetRequiredService<CertificateFiles>();
            foreach (string listen in settings.Config.Publish.Listen)
            {
                k.Listen(ConfigLoader.ParseListen(listen).Tcp!, lo => lo.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, sni) => Certificate(domains, certs, sni),
                }));
            }
        });
        await using var app = builder.Build();
        // HEAD is GET without the body (RFC 9110 §9.3.2): same status, headers and Content-Length.
        app.MapMethods(PolicyPath, [HttpMethods.Get, HttpMethods.Head], async (HttpContext http) =>
        {
            string host = http.Request.Host.Host.TrimEnd('.').ToLowerInvariant();
            if (!host.StartsWith("mta-sts.", StringComparison.Ordinal) || !domains.TryGetValue(host[8..], out var d))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                http.Response.ContentLength = 0;
                return;
            }
            byte[] body = System.Text.Encoding.ASCII.GetBytes(d.Policy.Text);
            // No caching headers on purpose: senders must not cache over HTTP (RFC 8461 §3.3).
            http.Response.ContentType = "text/plain; charset=us-ascii";
            http.Response.ContentLength = body.Length;
            if (!HttpMethods.IsHead(http.Request.Method))
                await http.Response.Body.WriteAsync(body, http.RequestAborted);
        });
        // Every other path, any method: an empty 404 with an explicit Content-Length, alike for GET and HEAD.
        app.Map("/{**rest}", (HttpContext http) =>
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            http.Response.ContentLength = 0;
        });
        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException ex) when (Server.ListenFailure.From(ex) is { } failure)
        {
            throw failure;
        }
        app.Logger.LogInformation("Serving MTA-STS policies for {Domains} on {Listen}",
            string.Join(", ", domains.Keys), string.Join(", ", settings.Config.Publish.Listen));
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate(
        IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)> domains,
        CertificateFiles certs, string? sni)
    {
        string host = (sni ?? "").TrimEnd('.').ToLowerInvariant();
        if (!host.StartsWith("mta-sts.", StringComparison.Ordinal) || !domains.TryGetValue(host[8..], out var d))
        {
            // Unknown name: hand out the first certificate; the client's name check fails cleanly.
            d = domains.Values.First();
            host = "mta-sts." + d.Policy.Domain;
        }
        return certs.Get(host, d.Config.Certificate, d.Config.Key);
    }
}
