using System.Data.Common;

namespace Portcullis.Storage.Reports;

/// <summary>The tables of received reports and their summaries, created on first use.</summary>
public abstract partial class SqlReportStore
{
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
}
