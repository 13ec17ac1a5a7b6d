using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>
/// SQLite cache in WAL mode (tables sts_cache and dane_cache, JSON entries): survives restarts and kill -9. A file SQLite cannot read is moved
/// aside (never deleted: an administrator may want it) and a new cache is started; so is a file with another schema
/// (another program's database, or tables without our columns), which Portcullis must not alter.
/// </summary>
public sealed class SqlitePolicyStore : IPolicyStore
{
    private static readonly string[] Tables = ["sts_cache", "dane_cache"];
    private static readonly string[] Columns = ["domain", "entry", "discard_after", "updated_at"];
    private readonly SqliteConnection _db;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private SqlitePolicyStore(SqliteConnection db) => _db = db;

    public string Path { get; private init; } = "";

    public static SqlitePolicyStore Open(string path, ILogger logger)
    {
        Configuration.DataFiles.PrepareDatabase(path, "cache.path");
        try
        {
            try
            {
                return new SqlitePolicyStore(OpenChecked(path)) { Path = path };
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
                return new SqlitePolicyStore(OpenChecked(path)) { Path = path };
            }
        }
        catch (SqliteException ex)
        {
            throw Configuration.DataFiles.OpenFailed("cache.path", path, ex);
        }
    }

    /// <summary>The file holds tables, but not ours, or ours without the columns this version uses.</summary>
    private sealed class WrongSchemaException(string message) : Exception(message);

    private static void CheckSchema(SqliteConnection db)
    {
        var tables = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                tables.Add(r.GetString(0));
        }
        if (tables.Count > 0 && !tables.Overlaps(Tables))
            throw new WrongSchemaException($"wrong schema: tables {string.Join(", ", tables.Order().Take(5))} and no sts_cache or dane_cache, not a Portcullis cache");
        foreach (string table in Tables.Where(tables.Contains))
        {
            var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                columns.Add(r.GetString(0));
            if (Columns.Where(c => !columns.Contains(c)).ToList() is { Count: > 0 } missing)
                throw new WrongSchemaException($"wrong schema: table {table} has no column {string.Join(", ", missing)}");
        }
    }

    private static SqliteConnection OpenChecked(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            db.Open();
            // Memory answers first and the store is read only on a miss: 1 MiB of page cache, not 2.
            Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA cache_size=-1024;");
            using (var check = db.CreateCommand())
            {
                check.CommandText = "PRAGMA quick_check";
                string? result = check.ExecuteScalar() as string;
                if (result != "ok")
                    throw new SqliteException($"quick_check: {result}", 11);
            }
            CheckSchema(db);
            foreach (string table in Tables)
            {
                Exec(db, $"""
                    CREATE TABLE IF NOT EXISTS {table} (
                        domain TEXT PRIMARY KEY,
                        entry TEXT NOT NULL,
                        discard_after INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL DEFAULT 0
                    )
                    """);
            }
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public async Task<StsCacheEntry?> GetAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync("sts_cache", domain, ct) is { } json ? CacheEntryJson.Deserialize(json) : null;

    public Task SetAsync(StsCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync("sts_cache", entry.Domain, CacheEntryJson.Serialize(entry), entry.DiscardAfter, entry.UpdatedAt, ct);

    public async Task<DaneCacheEntry?> GetDaneAsync(string domain, CancellationToken ct) =>
        await GetJsonAsync("dane_cache", domain, ct) is { } json ? CacheEntryJson.DeserializeDane(json) : null;

    public Task SetDaneAsync(DaneCacheEntry entry, CancellationToken ct) =>
        SetJsonAsync("dane_cache", entry.Domain, CacheEntryJson.Serialize(entry), entry.ExpiresAt, entry.UpdatedAt, ct);

    private async Task<string?> GetJsonAsync(string table, string domain, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = $"SELECT entry FROM {table} WHERE domain = $d";
            cmd.Parameters.AddWithValue("$d", domain);
            return await cmd.ExecuteScalarAsync(ct) as string;
        }
        finally
        {
            _lock.Release();
        }
    }

    // Newer wins: a write carrying an older computation time than the stored row is ignored.
    private async Task SetJsonAsync(string table, string domain, string json, DateTimeOffset discardAfter, DateTimeOffset updatedAt,
        CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = $"""
                INSERT INTO {table} (domain, entry, discard_after, updated_at) VALUES ($d, $e, $x, $u)
                ON CONFLICT(domain) DO UPDATE SET entry = excluded.entry, discard_after = excluded.discard_after,
                    updated_at = excluded.updated_at
                WHERE excluded.updated_at >= {table}.updated_at
                """;
            cmd.Parameters.AddWithValue("$d", domain);
            cmd.Parameters.AddWithValue("$e", json);
            cmd.Parameters.AddWithValue("$x", discardAfter.ToUnixTimeSeconds());
            cmd.Parameters.AddWithValue("$u", updatedAt.UtcTicks);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            _lock.Release();
        }
    }

    public Task<IReadOnlyList<StsCacheEntry>> ListAsync(CancellationToken ct) =>
        ListJsonAsync("sts_cache", CacheEntryJson.Deserialize, ct);

    public Task<IReadOnlyList<DaneCacheEntry>> ListDaneAsync(CancellationToken ct) =>
        ListJsonAsync("dane_cache", CacheEntryJson.DeserializeDane, ct);

    private async Task<IReadOnlyList<T>> ListJsonAsync<T>(string table, Func<string, T?> parse, CancellationToken ct) where T : class
    {
        await _lock.WaitAsync(ct);
        try
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = $"SELECT entry FROM {table} ORDER BY domain";
            var list = new List<T>();
            using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (parse(reader.GetString(0)) is { } e)
                    list.Add(e);
            }
            return list;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<int> PurgeAsync(string? domain, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            int n = 0;
            foreach (string table in Tables)
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = domain is null ? $"DELETE FROM {table}" : $"DELETE FROM {table} WHERE domain = $d";
                if (domain is not null)
                    cmd.Parameters.AddWithValue("$d", domain);
                n += await cmd.ExecuteNonQueryAsync(ct);
            }
            return n;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            int n = 0;
            foreach (string table in Tables)
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = $"DELETE FROM {table} WHERE discard_after < $now";
                cmd.Parameters.AddWithValue("$now", now.ToUnixTimeSeconds());
                n += await cmd.ExecuteNonQueryAsync(ct);
            }
            return n;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync();
        await _db.DisposeAsync();
        _lock.Dispose();
    }
}
