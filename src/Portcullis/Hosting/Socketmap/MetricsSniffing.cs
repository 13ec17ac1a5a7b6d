using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Portcullis.Configuration;
using Portcullis.Observability;

namespace Portcullis.Hosting.Socketmap;

/// <summary>
/// Connection middleware on the socketmap listeners: a netstring starts with a digit, so a first byte that is a
/// letter is an HTTP client (a Prometheus scrape), answered by <see cref="MetricsHttp"/>; every other connection
/// goes on to <see cref="SocketmapConnectionHandler"/> with the bytes unread. The wait for the first byte counts
/// towards the socketmap's idle deadline, which runs from <see cref="ConnectedAt"/>.
/// </summary>
public static class MetricsSniffing
{
    private static readonly object ConnectedKey = new();

    public static ListenOptions UseMetricsSniffing(this ListenOptions listen)
    {
        var services = listen.ApplicationServices;
        var metricsHttp = services.GetRequiredService<MetricsHttp>();
        var metrics = services.GetRequiredService<PortcullisMetrics>();
        var time = services.GetRequiredService<TimeProvider>();
        var limits = services.GetRequiredService<Settings>().Config.Limits;
        var idle = TimeSpan.FromSeconds(limits.IdleTimeout);
        var write = TimeSpan.FromSeconds(limits.WriteTimeout);
        listen.Use(next => async connection =>
        {
            connection.Items[ConnectedKey] = time.GetUtcNow();
            bool http = false;
            try
            {
                using var deadline = new CancellationTokenSource(idle, time);
                // Shutdown closes a connection that has not spoken yet at once, as the handler does an idle one.
                var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
                using var reading = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, stopping, deadline.Token);
                var first = await connection.Transport.Input.ReadAsync(reading.Token);
                http = !first.Buffer.IsEmpty && char.IsAsciiLetter((char)first.Buffer.FirstSpan[0]);
                connection.Transport.Input.AdvanceTo(first.Buffer.Start); // nothing consumed: the handler reads it again
            }
            catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException)
            {
                // The socketmap handler closes it alike: its deadline has passed, or the connection is gone.
            }
            if (!http)
            {
                await next(connection);
                return;
            }
            metrics.Connections.Add(1);
            try
            {
                using var writing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                writing.CancelAfter(MetricsHttp.ReadTimeout + write);
                await metricsHttp.ServeAsync(connection.Transport.Input, connection.Transport.Output, writing.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException)
            {
            }
            finally
            {
                metrics.Connections.Add(-1);
                await connection.Transport.Input.CompleteAsync();
                await connection.Transport.Output.CompleteAsync();
            }
        });
        return listen;
    }

    /// <summary>When the connection was accepted (set by the middleware), for the first request's deadline.</summary>
    public static DateTimeOffset? ConnectedAt(ConnectionContext connection) =>
        connection.Items.TryGetValue(ConnectedKey, out object? at) ? at as DateTimeOffset? : null;
}
