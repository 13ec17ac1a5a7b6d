using System.Data.Common;
using System.Globalization;
using Portcullis.Core.TlsRpt;

namespace Portcullis.TlsRpt;

public enum StoreResult { Stored, Duplicate, OverQuota }

/// <summary>Received TLS-RPT reports, deduplicated by report-id (senders retry). Store failures throw
/// (<see cref="DbException"/>); the receiver turns them into 503s.</summary>
public interface IReportStore : IDisposable
{
    /// <summary>Synchronous on purpose: it runs on ReportIntake's few dedicated, niced worker threads (and in the
    /// CLI's import), never on a Kestrel thread, and holds the store for one report at a time.</summary>
    /// <param name="raw">The report as gzip (the sender's own when it sent gzip): kept compressed.</param>
    StoreResult Add(TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received);

    /// <summary>Summary rows from <paramref name="since"/> on, at most <paramref name="maxRows"/> (the console page, the CLI).</summary>
    Task<SummaryPage> SummaryAsync(DateOnly since, string? domain, int maxRows, CancellationToken ct);

    /// <summary>The stored reports whose date range ends at or after <paramref name="since"/>, oldest first, at most
    /// <paramref name="max"/> (re-parsed from the kept gzip: `rollout status` needs per-MX detail the summaries drop).</summary>
    IReadOnlyList<TlsRptReport> Reports(DateTimeOffset since, int max);

    /// <summary>UTC day of the newest stored report about <paramref name="policyDomain"/>; null: none.</summary>
    DateOnly? LastReportDay(string policyDomain);
}

/// <summary>
/// The SQL shared by the SQLite and PostgreSQL stores. Each report is kept as gzip in
/// <c>received</c>; at insert time, in the same transaction, it is added to the summary tables
/// (<c>days</c>, <c>daily</c>, <c>daily_failures</c>, <c>daily_reporters</c>), so a summary
/// reads a bounded number of aggregated rows and never re-parses reports. A report is refused
/// (<see cref="StoreResult.OverQuota"/>) when the store already uses its quota. The tables are created on
/// first use, not in a constructor, so a store that is down at start costs 503s, never the daemon.
/// </summary>
public abstract class SqlReportStore(string tablePrefix, long quotaBytes) : IReportStore
{
    private readonly SemaphoreSlim _turn = new(1, 1);
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

    protected void CreateTables(DbConnection db)
    {
        Exec(db, null, $"""
            CREATE TABLE IF NOT EXISTS {T("received")} (
                report_id TEXT PRIMARY KEY, organization TEXT NOT NULL, start_utc BIGINT NOT NULL, end_utc BIGINT NOT NULL,
                received_utc BIGINT NOT NULL, raw {BlobType} NOT NULL);
            CREATE TABLE IF NOT EXISTS {T("days")} (
                day TEXT PRIMARY KEY, successful BIGINT NOT NULL, failed BIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS {T("daily")} (
                day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,
                successful BIGINT NOT NULL, failed BIGINT NOT NULL, PRIMARY KEY (day, policy_domain, policy_type));
            CREATE TABLE IF NOT EXISTS {T("daily_failures")} (
                day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL, result_type TEXT NOT NULL,
                sending_ip TEXT NOT NULL, sessions BIGINT NOT NULL,
                PRIMARY KEY (day, policy_domain, policy_type, result_type, sending_ip));
            CREATE TABLE IF NOT EXISTS {T("daily_reporters")} (
                day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL, organization TEXT NOT NULL,
                reports BIGINT NOT NULL, PRIMARY KEY (day, policy_domain, policy_type, organization));
            """);
    }

    public StoreResult Add(TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received) => Use(db => Add(db, report, raw, received, quotaBytes));

    /// <summary>Inserts the <c>received</c> row. Stores override it to write <paramref name="raw"/> without copying it
    /// into a new array: a report above 85 KB would be a large object, and a flood of them blocking full GCs.</summary>
    protected virtual void InsertReceived(DbConnection db, DbTransaction tx, TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received) =>
        Exec(db, tx, $"INSERT INTO {T("received")} VALUES (@id, @org, @s, @e, @r, @raw)", ("id", report.ReportId),
            ("org", report.OrganizationName), ("s", report.Start.ToUnixTimeSeconds()), ("e", report.End.ToUnixTimeSeconds()),
            ("r", received.ToUnixTimeSeconds()), ("raw", raw.ToArray()));

    protected StoreResult Add(DbConnection db, TlsRptReport report, ReadOnlyMemory<byte> raw, DateTimeOffset received, long quota)
    {
        using var tx = db.BeginTransaction();
        if (Scalar(db, tx, $"SELECT 1 FROM {T("received")} WHERE report_id = @id", ("id", report.ReportId)) is not null)
            return StoreResult.Duplicate;
        if (UsedBytes(db, tx) + raw.Length > quota)
            return StoreResult.OverQuota;
        InsertReceived(db, tx, report, raw, received);
        var agg = TlsRptAggregate.From(report);
        string day = agg.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Exec(db, tx, $"""
            INSERT INTO {T("days")} VALUES (@d, @s, @f) ON CONFLICT (day) DO UPDATE SET
                successful = {Saturated(T("days") + ".successful", "excluded.successful", Cap)},
                failed = {Saturated(T("days") + ".failed", "excluded.failed", Cap)}
            """, ("d", day), ("s", agg.Successful), ("f", agg.Failed));
        using (var daily = Command(db, tx, $"""
            INSERT INTO {T("daily")} VALUES (@d, @pd, @pt, @s, @f) ON CONFLICT (day, policy_domain, policy_type) DO UPDATE SET
                successful = {Saturated(T("daily") + ".successful", "excluded.successful", Cap)},
                failed = {Saturated(T("daily") + ".failed", "excluded.failed", Cap)}
            """, ("d", day), ("pd", ""), ("pt", ""), ("s", 0L), ("f", 0L)))
        using (var reporter = Command(db, tx, $"""
            INSERT INTO {T("daily_reporters")} VALUES (@d, @pd, @pt, @o, 1) ON CONFLICT (day, policy_domain, policy_type, organization)
                DO UPDATE SET reports = {T("daily_reporters")}.reports + 1
            """, ("d", day), ("pd", ""), ("pt", ""), ("o", agg.Reporter)))
        {
            foreach (var p in agg.Policies)
            {
                Run(daily, p.PolicyDomain, p.PolicyType, p.Successful, p.Failed);
                Run(reporter, p.PolicyDomain, p.PolicyType);
            }
        }
        using (var failure = Command(db, tx, $"""
            INSERT INTO {T("daily_failures")} VALUES (@d, @pd, @pt, @rt, @ip, @n)
                ON CONFLICT (day, policy_domain, policy_type, result_type, sending_ip) DO UPDATE SET
                sessions = {Saturated(T("daily_failures") + ".sessions", "excluded.sessions", Cap)}
            """, ("d", day), ("pd", ""), ("pt", ""), ("rt", ""), ("ip", ""), ("n", 0L)))
        {
            foreach (var f in agg.Failures)
                Run(failure, f.PolicyDomain, f.PolicyType, f.ResultType, f.SendingIp, f.Sessions);
        }
        tx.Commit();
        return StoreResult.Stored;
    }

    public Task<SummaryPage> SummaryAsync(DateOnly since, string? domain, int maxRows, CancellationToken ct) => UseAsync(async db =>
    {
        string from = since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var keys = await ReadAsync(db, $"""
            SELECT day, policy_domain, policy_type, successful, failed FROM {T("daily")}
            WHERE day >= @s {(domain is null ? "" : "AND policy_domain = @pd")}
            ORDER BY policy_domain, day, policy_type LIMIT @n
            """, r => (Day: r.GetString(0), Domain: r.GetString(1), Type: r.GetString(2), Ok: r.GetInt64(3), Failed: r.GetInt64(4)), ct,
            ("s", from), ("pd", domain ?? ""), ("n", (long)maxRows + 1));
        bool truncated = keys.Count > maxRows;
        var rows = new List<SummaryRow>();
        foreach (var k in keys.Take(maxRows))
            rows.Add(await RowAsync(db, k, ct));
        var days = domain is null
            ? await ReadAsync(db, $"SELECT day, successful, failed FROM {T("days")} WHERE day >= @s ORDER BY day LIMIT {MaxDays}",
                r => new SummaryDay(Day(r.GetString(0)), r.GetInt64(1), r.GetInt64(2)), ct, ("s", from))
            : [.. rows.GroupBy(x => x.Day).Select(g => new SummaryDay(g.Key, g.Sum(x => x.Successful), g.Sum(x => x.Failed)))];
        return new SummaryPage(rows, days, truncated);
    }, ct);

    public IReadOnlyList<TlsRptReport> Reports(DateTimeOffset since, int max) => Use(db =>
        Read(db, $"SELECT raw FROM {T("received")} WHERE end_utc >= @s ORDER BY start_utc, report_id LIMIT @n",
            r => (byte[])r.GetValue(0), ("s", since.ToUnixTimeSeconds()), ("n", (long)max)))
        .Select(raw => ReportInput.Decode(raw).Json is { } json ? TlsRptParser.Parse(json).Report : null).OfType<TlsRptReport>().ToList();

    public DateOnly? LastReportDay(string policyDomain) => Use(db =>
        Scalar(db, null, $"SELECT MAX(day) FROM {T("daily")} WHERE policy_domain = @pd", ("pd", policyDomain)) is string day ? Day(day) : (DateOnly?)null);

    private async Task<SummaryRow> RowAsync(DbConnection db, (string Day, string Domain, string Type, long Ok, long Failed) k, CancellationToken ct)
    {
        (string, object)[] key = [("d", k.Day), ("pd", k.Domain), ("pt", k.Type)];
        const string Where = "WHERE day = @d AND policy_domain = @pd AND policy_type = @pt";
        var types = await ReadAsync(db, $"""
            SELECT result_type, {Sum("sessions")} FROM {T("daily_failures")} {Where}
            GROUP BY result_type ORDER BY 2 DESC, 1 LIMIT {MaxFailureTypesShown}
            """, r => (Type: r.GetString(0), Sessions: Clamp(r.GetValue(1))), ct, key);
        var ips = (await ReadAsync(db, $"""
            SELECT result_type, sending_ip FROM {T("daily_failures")} {Where} AND sending_ip <> ''
            ORDER BY result_type, sending_ip LIMIT {MaxFailureTypesShown * MaxIpsShown * 10}
            """, r => (Type: r.GetString(0), Ip: r.GetString(1)), ct, key))
            .GroupBy(x => x.Type).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Take(MaxIpsShown).Select(x => x.Ip)], StringComparer.Ordinal);
        var reporters = await ReadAsync(db, $"SELECT organization FROM {T("daily_reporters")} {Where} ORDER BY organization LIMIT {MaxReportersShown}",
            r => r.GetString(0), ct, key);
        return new SummaryRow(k.Domain, k.Type, Day(k.Day), k.Ok, k.Failed,
            [.. types.Select(t => (t.Type, t.Sessions, ips.TryGetValue(t.Type, out var l) ? l : []))], reporters);
    }

    private static DateOnly Day(string s) => DateOnly.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long Clamp(object v) => v switch
    {
        long l => l,
        double d => d >= 9e18 ? 9_000_000_000_000_000_000 : (long)d,
        decimal m => m >= 9e18m ? 9_000_000_000_000_000_000 : (long)m,
        _ => Convert.ToInt64(v, CultureInfo.InvariantCulture),
    };

    protected DbCommand Command(DbConnection db, DbTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = StatementTimeoutSeconds;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    /// <summary>Re-runs a prepared upsert with new values for its parameters after the first (the day).</summary>
    private static void Run(DbCommand cmd, params object[] values)
    {
        for (int i = 0; i < values.Length; i++)
            cmd.Parameters[i + 1].Value = values[i];
        cmd.ExecuteNonQuery();
    }

    protected void Exec(DbConnection db, DbTransaction? tx, string sql, params (string, object)[] args)
    {
        using var cmd = Command(db, tx, sql, args);
        cmd.ExecuteNonQuery();
    }

    protected object? Scalar(DbConnection db, DbTransaction? tx, string sql, params (string, object)[] args)
    {
        using var cmd = Command(db, tx, sql, args);
        return cmd.ExecuteScalar();
    }

    private List<TRow> Read<TRow>(DbConnection db, string sql, Func<DbDataReader, TRow> row, params (string, object)[] args)
    {
        using var cmd = Command(db, null, sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<TRow>();
        while (r.Read())
            list.Add(row(r));
        return list;
    }

    private async Task<List<TRow>> ReadAsync<TRow>(DbConnection db, string sql, Func<DbDataReader, TRow> row, CancellationToken ct,
        params (string, object)[] args)
    {
        await using var cmd = Command(db, null, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<TRow>();
        while (await r.ReadAsync(ct))
            list.Add(row(r));
        return list;
    }

    /// <summary>Rows one at a time (a legacy table may be large).</summary>
    protected IEnumerable<TRow> Stream<TRow>(DbConnection db, string sql, Func<DbDataReader, TRow> row)
    {
        using var cmd = Command(db, null, sql);
        cmd.CommandTimeout = 0; // reading a whole table once, at start
        using var r = cmd.ExecuteReader();
        while (r.Read())
            yield return row(r);
    }

    /// <summary>Moves reports of the earlier one-table layout (JSON text) into this store, once.</summary>
    protected int ImportLegacy(DbConnection db, IEnumerable<(string Json, long ReceivedUtc)> rows)
    {
        int n = 0;
        foreach (var (json, receivedUtc) in rows)
        {
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(json);
            if (TlsRptParser.Parse(bytes, policyStrings: false).Report is { } report
                && Add(db, report, ReportInput.Gzip(bytes), DateTimeOffset.FromUnixTimeSeconds(receivedUtc), long.MaxValue) == StoreResult.Stored)
                n++;
        }
        return n;
    }

    public virtual void Dispose() => _turn.Dispose();
}
