using Npgsql;

namespace Portcullis.Storage;

/// <summary>The connection policy of every PostgreSQL store (cache and TLS-RPT reports).</summary>
public static class PostgresConnections
{
    /// <summary>Seconds to connect and for a statement, at most (a lower value in the connection string stands).</summary>
    public const int ConnectTimeoutSeconds = 3, CommandTimeoutSeconds = 5;

    /// <summary>Short, explicit timeouts: an unreachable database must cost seconds, not Postfix's patience. Nothing
    /// connects here: the schema is created on first use, so the daemon starts while the database is down.</summary>
    public static NpgsqlDataSource Create(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        csb.Timeout = Math.Min(csb.Timeout, ConnectTimeoutSeconds);
        csb.CommandTimeout = Math.Min(csb.CommandTimeout, CommandTimeoutSeconds);
        return NpgsqlDataSource.Create(csb.ConnectionString);
    }
}

/// <summary>Runs a one-time setup (creating tables) on first use; a failed attempt is retried by the next caller.</summary>
public sealed class OnFirstUse(Func<CancellationToken, Task> setup) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile bool _done;

    public async Task EnsureAsync(CancellationToken ct)
    {
        if (_done)
            return;
        await _lock.WaitAsync(ct);
        try
        {
            if (!_done)
            {
                await setup(ct);
                _done = true;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
