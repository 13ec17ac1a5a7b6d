using System.Data.Common;
using Portcullis.Core.TlsRpt;
using Portcullis.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>Reports of the earlier one-table layout (JSON text), moved into this store once.</summary>
public abstract partial class SqlReportStore
{
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
}
