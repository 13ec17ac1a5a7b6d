using Npgsql;
using Portcullis.Core.Caching;

namespace Portcullis.Storage;

/// <summary>
/// Shared cache in PostgreSQL: tables <c>PREFIX_sts_cache</c> and <c>PREFIX_dane_cache</c> (created on
/// first use, so the daemon starts while the database is down). Writes are conditional on the
/// version, so concurrent servers never replace a newer entry with an older one.
/// </summary>
public sealed class PostgresEntryStore : IEntryStore
{
    private readonly NpgsqlDataSource _db;
    private readonly string _prefix;
    private readonly OnFirstUse _schema;

    public PostgresEntryStore(string connectionString, string prefix)
    {
        _db = PostgresConnections.Create(connectionString);
        _prefix = prefix;
        _schema = new OnFirstUse(CreateTablesAsync);
    }

    private string Table(EntryKind kind) => $"{_prefix}_{(kind == EntryKind.Sts ? "sts" : "dane")}_cache";

    private IEnumerable<string> TablesOf(EntryKind? kind) => kind is { } k ? [Table(k)] : [Table(EntryKind.Sts), Table(EntryKind.Dane)];

    private async Task CreateTablesAsync(CancellationToken ct)
    {
        foreach (string table in TablesOf(null))
        {
            await using var cmd = _db.CreateCommand($"""
                CREATE TABLE IF NOT EXISTS {table} (
                    domain text PRIMARY KEY,
                    entry text NOT NULL,
                    discard_after timestamptz NOT NULL,
                    updated_at bigint NOT NULL)
                """);
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    private async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct, params object[] args)
    {
        await _schema.EnsureAsync(ct);
        var cmd = _db.CreateCommand(sql);
        foreach (object a in args)
            cmd.Parameters.AddWithValue(a);
        return cmd;
    }

    public async Task<string?> GetAsync(EntryKind kind, string key, CancellationToken ct)
    {
        await using var cmd = await CommandAsync($"SELECT entry FROM {Table(kind)} WHERE domain = $1", ct, key);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    public async Task UpsertIfNewerAsync(EntryKind kind, string key, string json, DateTimeOffset discardAfter, DateTimeOffset version,
        CancellationToken ct)
    {
        await using var cmd = await CommandAsync($"""
            INSERT INTO {Table(kind)} AS t (domain, entry, discard_after, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (domain) DO UPDATE SET entry = excluded.entry, discard_after = excluded.discard_after,
                updated_at = excluded.updated_at
            WHERE t.updated_at <= excluded.updated_at
            """, ct, key, json, discardAfter.UtcDateTime, version.UtcTicks);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<string>> ListAsync(EntryKind kind, CancellationToken ct)
    {
        await using var cmd = await CommandAsync($"SELECT entry FROM {Table(kind)}", ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<string>();
        while (await reader.ReadAsync(ct))
            list.Add(reader.GetString(0));
        return list;
    }

    public Task<int> DeleteAsync(EntryKind? kind, string? key, CancellationToken ct) =>
        key is null ? DeleteWhereAsync(kind, "", null, ct) : DeleteWhereAsync(kind, "WHERE domain = $1", key, ct);

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken ct) =>
        DeleteWhereAsync(null, "WHERE discard_after < $1", now.UtcDateTime, ct);

    private async Task<int> DeleteWhereAsync(EntryKind? kind, string where, object? value, CancellationToken ct)
    {
        int n = 0;
        foreach (string table in TablesOf(kind))
        {
            await using var cmd = await CommandAsync($"DELETE FROM {table} {where}", ct, value is null ? [] : [value]);
            n += await cmd.ExecuteNonQueryAsync(ct);
        }
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await _db.DisposeAsync();
        _schema.Dispose();
    }
}
