using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Observability;

namespace Portcullis.Server;

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
/// (not per waiting client) and counted in <c>portcullis_connection_limit_reached_total</c>.
/// </summary>
public sealed class ConnectionGate(string group, int limit, PortcullisMetrics metrics, ILogger log, TimeProvider time)
{
    private readonly SemaphoreSlim _slots = new(limit, limit);
    private readonly Lock _lock = new();
    private DateTimeOffset? _fullSince;

    public string Group => group;

    public int Limit => limit;

    public async ValueTask WaitAsync(CancellationToken ct)
    {
        if (!_slots.Wait(0))
        {
            lock (_lock)
            {
                if (_fullSince is null)
                {
                    _fullSince = time.GetUtcNow();
                    metrics.ConnectionLimitReached.Add(1, PortcullisMetrics.Tags("listener", group));
                    log.LogWarning("{Group} connection limit of {Limit} reached: new connections wait in the listen backlog until one closes",
                        group, limit);
                }
            }
            await _slots.WaitAsync(ct);
        }
    }

    public void Release()
    {
        _slots.Release();
        // The episode ends once a quarter of the slots are free again, so a busy edge logs rarely.
        if (_fullSince is null || _slots.CurrentCount < Math.Max(1, limit / 4))
            return;
        lock (_lock)
        {
            if (_fullSince is { } since)
            {
                _fullSince = null;
                log.LogInformation("{Group} connections below the limit again after {Seconds:0.#} s at the limit",
                    group, (time.GetUtcNow() - since).TotalSeconds);
            }
        }
    }
}
