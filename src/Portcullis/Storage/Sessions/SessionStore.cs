using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Portcullis.Storage.Sessions;

/// <summary>
/// The sending side's state in SQLite (the TLS-RPT database): per day, recipient domain and policy,
/// counts of successful and failed sessions and of each failure detail; then the generated reports
/// and their deliveries. Counting is done by the database (UPSERT), so a restart loses nothing that
/// was committed and several collectors could share the file.
/// </summary>
public sealed partial class SessionStore : IDisposable, IAsyncDisposable
{
    private readonly SqliteConnection _db;
    private readonly SqliteGate _gate; // one statement sequence at a time, waited for asynchronously

    public SessionStore(string path)
    {
        Configuration.DataFiles.PrepareDatabase(path, "tlsrpt.database");
        _db = new SqliteConnection($"Data Source={path};Pooling=False");
        try
        {
            _db.Open();
            CreateSchema();
            _gate = new SqliteGate(_db);
        }
        catch (SqliteException ex)
        {
            _db.Dispose();
            throw Configuration.DataFiles.OpenFailed("tlsrpt.database", path, ex);
        }
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly ParseDay(string s) => DateOnly.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private int Exec(string sql, params (string Name, object? Value)[] args) => Exec(null, sql, args);

    private int Exec(SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(tx, sql, args);
        return cmd.ExecuteNonQuery();
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] args) => Query(null, sql, row, args);

    private List<T> Query<T>(SqliteTransaction? tx, string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(tx, sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
            list.Add(row(r));
        return list;
    }

    // Microsoft.Data.Sqlite wants the open transaction on every command inside it: passed, never ambient.
    private SqliteCommand Command(SqliteTransaction? tx, string sql, (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args)
            cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return cmd;
    }

    public void Dispose() => _db.Dispose();

    public ValueTask DisposeAsync() => _gate.DisposeAsync();
}
