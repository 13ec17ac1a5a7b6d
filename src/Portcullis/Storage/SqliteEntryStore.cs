using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;

namespace Portcullis.Storage;

/// <summary>
/// SQLite cache in WAL mode (tables sts_cache and dane_cache, JSON entries): survives restarts and kill -9. A file SQLite cannot read is moved
/// aside (never deleted: an administrator may want it) and a new cache is started; so is a file with another schema
/// (another program's database, or tables without our columns), which Portcullis must not alter.
/// </summary>
public sealed class SqliteEntryStore : IEntryStore
{
    private static readonly string[] Tables = ["sts_cache", "dane_cache"];
    private static readonly string[] Columns = ["domain", "entry", "discard_after", "updated_at"];
    private readonly SqliteGate _gate;

    private SqliteEntryStore(SqliteConnection db) => _gate = new SqliteGate(db);

    public string Path { get; private init; } = "";

    private static string Table(EntryKind kind) => kind == EntryKind.Sts ? "sts_cache" : "dane_cache";

    private static IEnumerable<string> TablesOf(EntryKind? kind) => kind is { } k ? [Table(k)] : Tables;

    public static SqliteEntryStore Open(string path, ILogger logger)
    {
        Configuration.DataFiles.PrepareDatabase(path, "cache.path");
        try
        {
            try
            {
                return Opened(path);
            }
            catch (Exception ex) when (ex is WrongSchemaException or SqliteException { SqliteErrorCode: 11 or 26 }) // SQLITE_CORRUPT, SQLITE_NOTADB
            {
                string aside = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddHHmmss}";
                logger.LogError("Cache file {Path} is unreadable ({Error}); moved it to {Aside} and starting an empty cache",
                    path, ex.Message, aside);
                SqliteConnection.ClearAllPools();
                File.Move(path, aside);
                foreach (string suffix in new[] { "-wal", "-shm" })
                {
                    if (File.Exists(path + suffix))
                        File.Move(path + suffix, aside + suffix);
                }
                Configuration.DataFiles.PrepareDatabase(path, "cache.path");
                return Opened(path);
            }
        }
        catch (SqliteException ex)
        {
            throw Configuration.DataFiles.OpenFailed("cache.path", path, ex);
        }
    }

    private static SqliteEntryStore Opened(string path)
    {
        var (db, check) = OpenChecked(path);
        return new SqliteEntryStore(db) { Path = path, IntegrityChecked = check };
    }

    /// <summary>Whether this open scanned the file (<c>quick_check</c>); false after a matching clean close.</summary>
    internal bool IntegrityChecked { get; private init; }

    /// <summary>The file holds tables, but not ours, or ours without the columns this version uses.</summary>
    private sealed class WrongSchemaException(string message) : Exception(message);

    private static HashSet<string> Names(SqliteConnection db, string sql)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var cmd = SqliteGate.Command(db, sql);
        using var r = cmd.ExecuteReader();
        while (r.Read())
            names.Add(r.GetString(0));
        return names;
    }

    private static void CheckSchema(SqliteConnection db)
    {
        var tables = Names(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        if (tables.Count > 0 && !tables.Overlaps(Tables))
            throw new WrongSchemaException($"wrong schema: tables {string.Join(", ", tables.Order().Take(5))} and no sts_cache or dane_cache, not a Portcullis cache");
        foreach (string table in Tables.Where(tables.Contains))
        {
            var columns = Names(db, $"SELECT name FROM pragma_table_info('{table}')");
            if (Columns.Where(c => !columns.Contains(c)).ToList() is { Count: > 0 } missing)
                throw new WrongSchemaException($"wrong schema: table {table} has no column {string.Join(", ", missing)}");
        }
    }

    private static (SqliteConnection Db, bool Checked) OpenChecked(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        // Judged before the open: opening creates the WAL file. A file closed cleanly and untouched since needs no
        // whole-file scan (CleanCloseMark).
        bool cleanlyClosed = CleanCloseMark.Consume(path);
        try
        {
            db.Open();
            // Memory answers first and the store is read only on a miss: 1 MiB of page cache, not 2.
            Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA cache_size=-1024;");
            if (!cleanlyClosed)
            {
                using var check = SqliteGate.Command(db, "PRAGMA quick_check");
                if (check.ExecuteScalar() as string is var result && result != "ok")
                    throw new SqliteException($"quick_check: {result}", 11);
            }
            CheckSchema(db);
            foreach (string table in Tables)
            {
                // The schema of every earlier version: an existing cache.db is read as it is.
                Exec(db, $"""
                    CREATE TABLE IF NOT EXISTS {table} (
                        domain TEXT PRIMARY KEY,
                        entry TEXT NOT NULL,
                        discard_after INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL DEFAULT 0
                    )
                    """);
            }
            return (db, !cleanlyClosed);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public Task<string?> GetAsync(EntryKind kind, string key, CancellationToken ct) => _gate.RunAsync(async db =>
    {
        using var cmd = SqliteGate.Command(db, $"SELECT entry FROM {Table(kind)} WHERE domain = $d", ("$d", key));
        return await cmd.ExecuteScalarAsync(ct) as string;
    }, ct);

    public Task UpsertIfNewerAsync(EntryKind kind, string key, string json, DateTimeOffset discardAfter, DateTimeOffset version,
        CancellationToken ct) => _gate.RunAsync(async db =>
    {
        string table = Table(kind);
        using var cmd = SqliteGate.Command(db, $"""
            INSERT INTO {table} (domain, entry, discard_after, updated_at) VALUES ($d, $e, $x, $u)
            ON CONFLICT(domain) DO UPDATE SET entry = excluded.entry, discard_after = excluded.discard_after,
                updated_at = excluded.updated_at
            WHERE excluded.updated_at >= {table}.updated_at
            """, ("$d", key), ("$e", json), ("$x", discardAfter.ToUnixTimeSeconds()), ("$u", version.UtcTicks));
        return await cmd.ExecuteNonQueryAsync(ct);
    }, ct);

    public Task<IReadOnlyList<string>> ListAsync(EntryKind kind, CancellationToken ct) => _gate.RunAsync<IReadOnlyList<string>>(async db =>
    {
        using var cmd = SqliteGate.Command(db, $"SELECT entry FROM {Table(kind)} ORDER BY domain");
        using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<string>();
        while (await reader.ReadAsync(ct))
            list.Add(reader.GetString(0));
        return list;
    }, ct);

    public Task<int> DeleteAsync(EntryKind? kind, string? key, CancellationToken ct) =>
        DeleteWhereAsync(kind, key is null ? "" : "WHERE domain = $v", key ?? "", ct);

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) =>
        DeleteWhereAsync(null, "WHERE discard_after < $v", now.ToUnixTimeSeconds(), ct);

    private Task<int> DeleteWhereAsync(EntryKind? kind, string where, object value, CancellationToken ct) => _gate.RunAsync(async db =>
    {
        int n = 0;
        foreach (string table in TablesOf(kind))
        {
            using var cmd = SqliteGate.Command(db, $"DELETE FROM {table} {where}", ("$v", value));
            n += await cmd.ExecuteNonQueryAsync(ct);
        }
        return n;
    }, ct);

    private static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = SqliteGate.Command(db, sql);
        cmd.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        if (await _gate.CloseAsync())
            CleanCloseMark.Write(Path);
    }
}
