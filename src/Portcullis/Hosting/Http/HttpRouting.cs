using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Portcullis.Configuration;
using Portcullis.Observability;
using Portcullis.TlsRpt;

namespace Portcullis.Hosting.Http;

/// <summary>What an HTTP listener is for.</summary>
public enum HttpRole { Metrics, Reports, Console }

/// <summary>
/// Each HTTP listener serves only its own purpose, chosen by the listener the connection arrived on
/// (tagged when Kestrel accepts it), never by the client's Host header: behind a TLS proxy the Host
/// is the public name, and a client could name any other listener in it.
/// </summary>
public static class HttpRouting
{
    private static readonly object RoleKey = new();

    public static void Tag(ListenOptions listen, HttpRole role) => listen.Use(next => connection =>
    {
        connection.Items[RoleKey] = role;
        return next(connection);
    });

    public static HttpRole? RoleOf(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(RoleKey, out object? role) == true ? role as HttpRole? : null;

    public static async Task DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        var services = http.RequestServices;
        IResult result = RoleOf(http) switch
        {
            HttpRole.Metrics when HttpMethods.IsGet(request.Method) && request.Path == "/metrics" =>
                Results.Text(services.GetRequiredService<PrometheusExporter>().Render(), "text/plain; version=0.0.4; charset=utf-8"),
            HttpRole.Reports when HttpMethods.IsPost(request.Method) =>
                await ReportEndpoint.HandleAsync(http, services.GetRequiredService<ReportReceiver>(), services.GetRequiredService<ReportIntake>(),
                    services.GetRequiredService<Settings>().Config.Tlsrpt.ReceiveMaxBytes, services.GetRequiredService<TimeProvider>()),
            HttpRole.Console when HttpMethods.IsGet(request.Method) && request.Path == "/" => await PageAsync(services, http.RequestAborted),
            _ => Results.Text("not found\n", statusCode: StatusCodes.Status404NotFound),
        };
        await result.ExecuteAsync(http);
    }

    private static async Task<IResult> PageAsync(IServiceProvider services, CancellationToken ct)
    {
        var since = DateOnly.FromDateTime(services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime).AddDays(-ReportPage.Days);
        try
        {
            var page = await services.GetRequiredService<IReportStore>().SummaryAsync(since, null, ReportPage.MaxRows, ct);
            return Results.Content(ReportPage.Render(page, since), "text/html; charset=utf-8");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            return Results.Text($"report store unavailable: {ex.Message}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
