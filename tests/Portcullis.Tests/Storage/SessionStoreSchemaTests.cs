using Microsoft.Data.Sqlite;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Storage.Sessions;

namespace Portcullis.Tests.Storage;

/// <summary>The submitter is a column (not parsed back from the report id), added to files of earlier versions.</summary>
public sealed class SessionStoreSchemaTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-sessions-").FullName;
    private string Path => System.IO.Path.Combine(_dir, "tlsrpt.db");

    [Fact]
    public async Task A_pending_delivery_carries_the_stored_submitter_not_one_parsed_from_its_id()
    {
        using var store = new SessionStore(Path);
        Assert.True(await store.AddReportAsync(new DateOnly(2026, 11, 30), "rcpt.example", "20261130.ab@renamed.example", "mta.sender.example", "{}",
            [new ReportDestination(DestinationKind.Mail, "tlsrpt@rcpt.example")], null, (1, 0), Now, default));
        var due = Assert.Single((await store.DueDeliveriesAsync(Now, default)));
        Assert.Equal("mta.sender.example", due.Submitter);
    }

    [Fact]
    public async Task A_database_of_the_previous_version_gains_the_column_and_its_rows_still_read()
    {
        using (var db = new SqliteConnection($"Data Source={Path};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            // tlsrpt_out_reports and tlsrpt_out_deliveries as the previous version created them, with one pending delivery.
            cmd.CommandText = """
                CREATE TABLE tlsrpt_out_reports (
                    day TEXT NOT NULL, domain TEXT NOT NULL, report_id TEXT NOT NULL UNIQUE, json TEXT NOT NULL,
                    created_utc INTEGER NOT NULL, note TEXT, successful INTEGER NOT NULL, failed INTEGER NOT NULL,
                    PRIMARY KEY (day, domain));
                CREATE TABLE tlsrpt_out_deliveries (
                    report_id TEXT NOT NULL, destination TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                    first_attempt_utc INTEGER, next_attempt_utc INTEGER NOT NULL, last_error TEXT, done_utc INTEGER,
                    PRIMARY KEY (report_id, destination));
                INSERT INTO tlsrpt_out_reports VALUES ('2026-11-29', 'old.example', '20261129.cd@mta.old.example', '{"r":1}', 1764460800, NULL, 3, 1);
                INSERT INTO tlsrpt_out_deliveries (report_id, destination, status, next_attempt_utc)
                    VALUES ('20261129.cd@mta.old.example', 'mailto:tlsrpt@old.example', 'pending', 1764460800);
                """;
            cmd.ExecuteNonQuery();
        }
        using var store = new SessionStore(Path);
        var old = Assert.Single((await store.DueDeliveriesAsync(Now, default)));
        Assert.Equal(("20261129.cd@mta.old.example", "old.example", "mta.old.example", "{\"r\":1}"), (old.ReportId, old.Domain, old.Submitter, old.Json));
        Assert.True(await store.AddReportAsync(new DateOnly(2026, 11, 30), "new.example", "20261130.ef@x.example", "mta.new.example", "{}",
            [new ReportDestination(DestinationKind.Https, "https://new.example/r")], null, (1, 0), Now, default));
        Assert.Equal(["mta.old.example", "mta.new.example"], (await store.DueDeliveriesAsync(Now, default)).Select(d => d.Submitter));
        var row = Assert.Single((await store.DeliveriesAsync(new DateOnly(2026, 11, 29), default)), d => d.Domain == "old.example");
        Assert.Equal((3L, 1L, "pending"), (row.Successful, row.Failed, row.Status));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
