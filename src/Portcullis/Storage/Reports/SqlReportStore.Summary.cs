using System.Data.Common;
using System.Globalization;
using Portcullis.Core.TlsRpt;
using Portcullis.TlsRpt;

namespace Portcullis.Storage.Reports;

/// <summary>Reading back: summary pages from the aggregated tables, stored reports re-parsed from their gzip.</summary>
public abstract partial class SqlReportStore
{
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
}
