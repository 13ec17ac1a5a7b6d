using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Net;
using Portcullis.Hosting;
using Portcullis.Publishing;

namespace Portcullis.Hosting.Http;

/// <summary>
/// `policy-host`: serves <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c> for every domain in
/// <c>publish.domains</c>, and with <c>publish.acme_webroot</c> the ACME HTTP-01 challenges on plain
/// HTTP. The SNI name picks the certificate (unknown or no SNI: the handshake fails), the Host
/// header the policy; anything else is 404. The command (Cli/PolicyHostCommand) checks the domains first.
/// </summary>
public static class PolicyHostServer
{
    public const string PolicyPath = "/.well-known/mta-sts.txt";

    public static async Task<int> RunAsync(Settings settings, CancellationToken ct)
    {
        var domains = settings.PublishedDomains;
        var publish = settings.Config.Publish;
        var served = new ServedPolicies(settings); // a rollout's policy from the next request on
        var acme = publish.AcmeWebroot.Length > 0 ? new AcmeChallenges(publish.AcmeWebroot) : null;
        var acmeListen = acme is null ? [] : settings.AcmeListen.OfType<ListenEndpoint.Tcp>().ToList();
        var policyListen = settings.PublishListen.OfType<ListenEndpoint.Tcp>().ToList();
        ListenFailure.Probe([.. policyListen.Concat(acmeListen).Select(l => l.EndPoint)]);
        var builder = KestrelHost.CreateBuilder(settings.Config.LogLevel, routing: true);
        builder.Services.AddSingleton<CertificateFiles>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            var certs = k.ApplicationServices.GetRequiredService<CertificateFiles>();
            foreach (var listen in policyListen)
            {
                k.Listen(listen.EndPoint, lo => lo
                    .UseProxyProtocol(settings.TrustedProxies, k.ApplicationServices)
                    .UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = (_, sni) => Certificate(domains, certs, sni),
                    }));
            }
            foreach (var listen in acmeListen)
                k.Listen(listen.EndPoint, lo => lo.UseProxyProtocol(settings.TrustedProxies, k.ApplicationServices));
        });
        await using var app = builder.Build();
        var requests = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.PolicyHost");
        app.Use(async (http, next) =>
        {
            await next(http);
            // An access log line with the client address (the proxy-reported one behind a trusted proxy).
            requests.LogInformation("{Method} {Scheme}://{Host}{Path} from {Client}: {Status}", http.Request.Method,
                http.Request.Scheme, Clip(http.Request.Host.Value), Clip(http.Request.Path.Value), http.Connection.RemoteIpAddress, http.Response.StatusCode);
        });
        // HEAD is GET without the body (RFC 9110 §9.3.2): same status, headers and Content-Length.
        app.MapMethods(PolicyPath, [HttpMethods.Get, HttpMethods.Head], async (HttpContext http) =>
        {
            // The policy only over HTTPS (port 80 serves ACME challenges and nothing else) and only for our names.
            if (!http.Request.IsHttps || OurDomain(domains, http.Request.Host.Host) is not { } d)
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                http.Response.ContentLength = 0;
                return;
            }
            byte[] body = System.Text.Encoding.ASCII.GetBytes((served.Get(d.Policy.Domain) ?? d.Policy).Text);
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
        if (acme is not null)
        {
            app.MapMethods(AcmeChallenges.PathPrefix + "{token}", ["GET", "HEAD"], (HttpContext http, string token) =>
                http.Request.IsHttps || OurDomain(domains, http.Request.Host.Host) is null || acme.Read(token) is not { } body
                    ? Results.NotFound()
                    : Results.Bytes(body, "text/plain"));
        }
        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException ex) when (ListenFailure.From(ex) is { } failure)
        {
            throw failure;
        }
        app.Logger.LogInformation("Serving MTA-STS policies for {Domains} on {Listen}{Acme}",
            string.Join(", ", domains.Keys), string.Join(", ", publish.Listen),
            acme is null ? "" : $"; ACME challenges from {publish.AcmeWebroot} on {string.Join(", ", acmeListen.Select(l => l.Text))}");
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    /// <summary>Log fields from the request are cut to this length.</summary>
    private const int MaxLoggedChars = 200;

    private static string Clip(string? s) => s is null ? "" : s.Length <= MaxLoggedChars ? s : s[..MaxLoggedChars] + "…";

    /// <summary>The published domain for a name mta-sts.DOMAIN (Host header or SNI), else null.</summary>
    private static (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)? OurDomain(
        IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)> domains, string? name)
    {
        string host = (name ?? "").TrimEnd('.').ToLowerInvariant();
        return host.StartsWith("mta-sts.", StringComparison.Ordinal) && domains.TryGetValue(host[8..], out var d) ? d : null;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate(
        IReadOnlyDictionary<string, (Core.Publishing.PublishedPolicy Policy, PublishedDomainConfig Config)> domains,
        CertificateFiles certs, string? sni)
    {
        // Unknown or missing SNI: no certificate, so the handshake fails and nothing is served.
        if (OurDomain(domains, sni) is not { } d)
            return null;
        return certs.Get("mta-sts." + d.Policy.Domain, d.Config.Certificate, d.Config.Key);
    }
}
