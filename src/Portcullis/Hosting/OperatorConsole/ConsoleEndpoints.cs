using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portcullis.Configuration;
using Portcullis.Core.Protocol;
using Portcullis.Storage.Reports;
using Portcullis.TlsRpt;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// Everything the console listener serves: the static front end (<see cref="ConsoleAssets"/>, data-free, so the
/// login form can load) and the JSON API under <c>/api/</c>, which needs the configured credential. Reached only
/// through a listener tagged as the console (<see cref="Http.HttpRouting"/>), never through the report listener.
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>Header a POST must carry: a cross-site page can only send it after a CORS preflight, which is never granted.</summary>
    public const string ActionHeader = "X-Portcullis-Console";

    public static async Task<IResult> HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var services = http.RequestServices;
        var auth = services.GetRequiredService<ConsoleAuth>();
        Secure(http.Response);
        // Without a credential, only names that cannot be rebound: a page on evil.example whose name resolves to
        // 127.0.0.1 would otherwise read the API from the operator's own browser. (A unix socket has no such name.)
        if (!auth.Required && http.Connection.LocalIpAddress is not null && !IsLiteralHost(request.Host.Host))
            return Results.Text("use the console by IP address or localhost, or configure console.token_file\n", statusCode: StatusCodes.Status421MisdirectedRequest);
        string path = request.Path.Value ?? "/";
        if (!path.StartsWith("/api/", StringComparison.Ordinal))
            return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) ? ConsoleAssets.Serve(path) : NotFound();
        http.Response.Headers.CacheControl = "no-store";
        if (!auth.Allows(request))
            return auth.Challenge(http);
        bool post = HttpMethods.IsPost(request.Method);
        if (post && request.Headers[ActionHeader] != "1")
            return ConsoleApi.Error(StatusCodes.Status403Forbidden, $"POST needs the header {ActionHeader}: 1");
        if (!post && !HttpMethods.IsGet(request.Method))
            return ConsoleApi.Error(StatusCodes.Status405MethodNotAllowed, "GET or POST only");
        var api = services.GetRequiredService<ConsoleApi>();
        var ct = http.RequestAborted;
        var q = request.Query;
        try
        {
            return (post, path) switch
            {
                (false, "/api/overview") => Json(api.Overview()),
                (false, "/api/cache") => Results.Json(await api.CacheAsync(q["q"], Int(q["page"], 1), Int(q["size"], ConsoleApi.DefaultPageSize), ct),
                    ConsoleJson.Default.CachePage),
                (false, "/api/domain") => Domain(q["name"]) is { } d ? await api.DomainAsync(d, ct) : BadDomain(q["name"]),
                (true, "/api/domain/refresh") => Domain(q["name"]) is { } d
                    ? Results.Json(await api.RefreshAsync(d, ct), ConsoleJson.Default.RefreshResult) : BadDomain(q["name"]),
                (true, "/api/domain/purge") => Domain(q["name"]) is { } d
                    ? Results.Json(await api.PurgeAsync(d, ct), ConsoleJson.Default.PurgeResult) : BadDomain(q["name"]),
                (false, "/api/tlsrpt/received") => Results.Json(await TlsRptViews.ReceivedAsync(services.GetRequiredService<IReportStore>(), Since(services, q["days"]), ct),
                    ConsoleJson.Default.Received),
                (false, "/api/tlsrpt/sent") => Results.Json(await TlsRptViews.SentAsync(services.GetRequiredService<Storage.Sessions.SessionStore>(), Since(services, q["days"]), ct),
                    ConsoleJson.Default.Sent),
                (false, "/api/domains") => Results.Json(OwnDomainsView.Build(services.GetRequiredService<Settings>(),
                    services.GetRequiredService<IReadinessSource>(), services.GetRequiredService<TimeProvider>().GetUtcNow()), ConsoleJson.Default.OwnDomains),
                _ => ConsoleApi.Error(StatusCodes.Status404NotFound, $"no API endpoint {path}"),
            };
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            return ConsoleApi.Error(StatusCodes.Status503ServiceUnavailable, "store unavailable: " + ex.Message);
        }
    }

    private static IResult Json(Overview o) => Results.Json(o, ConsoleJson.Default.Overview);

    private static IResult NotFound() => Results.Text("not found\n", statusCode: StatusCodes.Status404NotFound);

    private static IResult BadDomain(string? name) =>
        ConsoleApi.Error(StatusCodes.Status400BadRequest, $"not a domain name: {name}");

    /// <summary>The canonical A-label of a domain name, as the socketmap keys it; null for anything else.</summary>
    public static string? Domain(string? name) =>
        name is { Length: > 0 and <= 255 } && NextHopParser.Parse(name.Trim()) is { Kind: NextHopKind.Domain } hop ? hop.Domain : null;

    private static int Int(string? s, int fallback) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : fallback;

    private static DateOnly Since(IServiceProvider services, string? days)
    {
        int n = Math.Clamp(Int(days, TlsRptViews.DefaultDays), 1, TlsRptViews.MaxDays);
        return DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime).AddDays(1 - n);
    }

    public static bool IsLiteralHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host.Trim('[', ']'), out _);

    /// <summary>Nothing but the console's own files runs or loads in its pages; no framing, no referrer.</summary>
    private static void Secure(HttpResponse response)
    {
        var h = response.Headers;
        h.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
    }
}
