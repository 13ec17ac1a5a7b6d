using Microsoft.Data.Sqlite;

namespace Portcullis.Storage;

/// <summary>
/// One SQLite connection used by one operation at a time (a connection is not thread-safe), waited for
/// asynchronously. The single place the stores' lock/try/finally lives.
/// </summary>
public sealed class SqliteGate(SqliteConnection db) : IAsyncDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private int _disposed;

    public async Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken ct)
    {
        await _turn.WaitAsync(ct);
        try
        {
            return await work(db);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Synchronous work under the gate: Microsoft.Data.Sqlite's async methods complete synchronously anyway.</summary>
    public Task<T> Run<T>(Func<SqliteConnection, T> work, CancellationToken ct) => RunAsync(db => Task.FromResult(work(db)), ct);

    public Task Run(Action<SqliteConnection> work, CancellationToken ct) => RunAsync(db =>
    {
        work(db);
        return Task.FromResult(0);
    }, ct);

    /// <summary>A command with named parameters (<c>$name</c>).</summary>
    public static SqliteCommand Command(SqliteConnection db, string sql, params (string Name, object Value)[] args)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
            cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }

    /// <summary>Idempotent: a store may be disposed by its decorator and again by the container that made both.
    /// True for the call that closed the connection.</summary>
    public async ValueTask<bool> CloseAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return false;
        await _turn.WaitAsync();
        await db.DisposeAsync();
        _turn.Dispose();
        return true;
    }

    public async ValueTask DisposeAsync() => await CloseAsync();
}
