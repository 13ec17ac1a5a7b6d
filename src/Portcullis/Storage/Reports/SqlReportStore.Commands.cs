using System.Data.Common;

namespace Portcullis.Storage.Reports;

/// <summary>Parameterised commands with the store's statement timeout.</summary>
public abstract partial class SqlReportStore
{
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
}
