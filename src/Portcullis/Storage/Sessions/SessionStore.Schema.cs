namespace Portcullis.Storage.Sessions;

/// <summary>The tables, created when the file is opened; columns added later by ALTER.</summary>
public sealed partial class SessionStore
{
    private void CreateSchema()
    {
        Exec("""
            PRAGMA journal_mode=WAL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS tlsrpt_out_policies (
                day TEXT NOT NULL, domain TEXT NOT NULL, policy_key TEXT NOT NULL, policy_json TEXT NOT NULL,
                successful INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day, domain, policy_key));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_failures (
                day TEXT NOT NULL, domain TEXT NOT NULL, policy_key TEXT NOT NULL, failure_key TEXT NOT NULL,
                failure_json TEXT NOT NULL, sessions INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day, domain, policy_key, failure_key));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_records (
                day TEXT NOT NULL, domain TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (day, domain));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_reports (
                day TEXT NOT NULL, domain TEXT NOT NULL, report_id TEXT NOT NULL UNIQUE, json TEXT NOT NULL,
                created_utc INTEGER NOT NULL, note TEXT, successful INTEGER NOT NULL, failed INTEGER NOT NULL,
                PRIMARY KEY (day, domain));
            CREATE TABLE IF NOT EXISTS tlsrpt_out_deliveries (
                report_id TEXT NOT NULL, destination TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                first_attempt_utc INTEGER, next_attempt_utc INTEGER NOT NULL, last_error TEXT, done_utc INTEGER,
                PRIMARY KEY (report_id, destination));
            """);
        // Added later, by ALTER so files of earlier versions get it too; their rows have NULL (see DueDeliveries).
        if (Query(null, "SELECT 1 FROM pragma_table_info('tlsrpt_out_reports') WHERE name = 'submitter'", r => 1).Count == 0)
            Exec("ALTER TABLE tlsrpt_out_reports ADD COLUMN submitter TEXT");
    }
}
