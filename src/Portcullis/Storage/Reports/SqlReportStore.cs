using System.Data.Common;

namespace Portcullis.Storage.Reports;

/// <summary>
/// The SQL shared by the SQLite and PostgreSQL stores. Each report is kept as gzip in
/// <c>received</c>; at insert time, in the same transaction, it is added to the summary tables
/// (<c>days</c>, <c>daily</c>, <c>daily_failures</c>, <c>daily_reporters</c>), so a summary
/// reads a bounded number of aggregated rows and never re-parses reports. A report is refused
/// (<see cref="StoreResult.OverQuota"/>) when the store already uses its quota. The tables are created on
/// first use, not in a constructor, so a store that is down at start costs 503s, never the daemon.
/// </summary>
public abstract partial class SqlReportStore(string tablePrefix, long quotaBytes) : IReportStore
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly long _quotaBytes = quotaBytes;
    private bool _ready;

    /// <summary>Seconds a statement may take (SQLite: waiting for a lock; PostgreSQL: the server).</summary>
    public const int CommandTimeoutSeconds = 10;
    public const int MaxFailureTypesShown = 10, MaxIpsShown = 10, MaxReportersShown = 10, MaxDays = 400;
    private const string Cap = "9000000000000000000"; // counts saturate here instead of overflowing

    protected string T(string table) => tablePrefix + table;

    /// <summary>Seconds a statement may take here (PostgreSQL: the shared connection policy).</summary>
    protected virtual int StatementTimeoutSeconds => CommandTimeoutSeconds;

    /// <summary>An open connection for one operation.</summary>
    protected abstract DbConnection Open();

    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>Gives back the connection after an operation; <paramref name="failure"/> is set when it threw.</summary>
    protected abstract void Return(DbConnection db, Exception? failure);

    /// <summary>Moves reports of an earlier layout in, once, after the tables exist.</summary>
    protected virtual void MoveLegacy(DbConnection db)
    {
    }

    private void Prepare(DbConnection db)
    {
        if (_ready)
            return;
        CreateTables(db);
        MoveLegacy(db);
        _ready = true;
    }

    /// <summary>Runs <paramref name="work"/> with an open connection, one operation at a time.</summary>
    protected TResult Use<TResult>(Func<DbConnection, TResult> work)
    {
        _turn.Wait();
        try
        {
            var db = Open();
            try
            {
                Prepare(db);
                var result = work(db);
                Return(db, null);
                return result;
            }
            catch (Exception ex)
            {
                Return(db, ex);
                throw;
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    protected async Task<TResult> UseAsync<TResult>(Func<DbConnection, Task<TResult>> work, CancellationToken ct)
    {
        await _turn.WaitAsync(ct);
        try
        {
            var db = await OpenAsync(ct);
            try
            {
                Prepare(db);
                var result = await work(db);
                Return(db, null);
                return result;
            }
            catch (Exception ex)
            {
                Return(db, ex);
                throw;
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>SQL for min(a + b, Cap) that cannot overflow.</summary>
    protected abstract string Saturated(string a, string b, string cap);

    /// <summary>SQL aggregate summing a column without an overflow error.</summary>
    protected abstract string Sum(string column);

    /// <summary>Bytes the store occupies now.</summary>
    protected abstract long UsedBytes(DbConnection db, DbTransaction tx);

    protected abstract string BlobType { get; }

    public virtual void Dispose() => _turn.Dispose();
}
