using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Observability;

namespace Portcullis.Hosting;

/// <summary>
/// Wraps the socket transport so a listener stops accepting while its group holds
/// <c>limits.max_connections</c> connections: further clients wait in the kernel's listen backlog
/// and are served as slots free, instead of being accepted and closed unanswered (Kestrel's own limit).
/// </summary>
public sealed class GatedListenerFactory(IConnectionListenerFactory inner, Func<EndPoint, ConnectionGate?> gateFor)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => inner is not IConnectionListenerFactorySelector s || s.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = await inner.BindAsync(endpoint, cancellationToken);
        return gateFor(endpoint) is { } gate ? new GatedListener(listener, gate) : listener;
    }

    private sealed class GatedListener(IConnectionListener inner, ConnectionGate gate) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            try
            {
                await gate.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                return null; // unbound (shutdown): Kestrel's accept loop ends on null
            }
            ConnectionContext? connection;
            try
            {
                connection = await inner.AcceptAsync(cancellationToken);
            }
            catch
            {
                gate.Release();
                throw;
            }
            if (connection is null)
            {
                gate.Release();
                return null;
            }
            return new GatedConnection(connection, gate);
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.Cancel();
            return inner.UnbindAsync(cancellationToken);
        }

        public ValueTask DisposeAsync()
        {
            _unbound.Cancel();
            _unbound.Dispose();
            return inner.DisposeAsync();
        }
    }

    /// <summary>The accepted connection, unchanged, except that disposing it frees its slot once.</summary>
    private sealed class GatedConnection(ConnectionContext inner, ConnectionGate gate) : ConnectionContext
    {
        private int _released;

        public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }
        public override IFeatureCollection Features => inner.Features;
        public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }
        public override System.IO.Pipelines.IDuplexPipe Transport { get => inner.Transport; set => inner.Transport = value; }
        public override EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }
        public override EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }
        public override CancellationToken ConnectionClosed { get => inner.ConnectionClosed; set => inner.ConnectionClosed = value; }
        public override void Abort() => inner.Abort();
        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync();
            }
            finally
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                    gate.Release();
            }
        }
    }
}

/// <summary>
/// The connection slots of one group of listeners. Reaching the limit is logged once per episode
/// (not per waiting client) and counted in <c>portcullis_connection_limit_reached_total</c>; an episode
/// ends after <see cref="EpisodeGap"/> without the limit being hit, so waves of clients log once.
/// </summary>
public sealed class ConnectionGate(string group, int limit, PortcullisMetrics metrics, ILogger log, TimeProvider time)
{
    public static readonly TimeSpan EpisodeGap = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _slots = new(limit, limit);
    private readonly Lock _lock = new();
    private DateTimeOffset _lastFull = DateTimeOffset.MinValue;

    public async ValueTask WaitAsync(CancellationToken ct)
    {
        if (_slots.Wait(0))
            return;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now - _lastFull > EpisodeGap)
            {
                metrics.ConnectionLimitReached.Add(1, PortcullisMetrics.Tags("listener", group));
                log.LogWarning("{Group} connection limit of {Limit} reached: new connections wait in the listen backlog until one closes",
                    group, limit);
            }
            _lastFull = now;
        }
        await _slots.WaitAsync(ct);
        lock (_lock)
            _lastFull = time.GetUtcNow(); // at the limit until this very moment
    }

    public void Release() => _slots.Release();
}
