using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MimeKit;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>TLS-RPT reports received by POST on the daemon and imported from mail, then summarised by the CLI.</summary>
public sealed class TlsRptReceiveTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-tlsrpt-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private static string Report(string id, string domain, long ok, long failed, string day = "2026-11-20") => $$"""
        {"organization-name":"Sender {{id}}","date-range":{"start-datetime":"{{day}}T00:00:00Z","end-datetime":"{{day}}T23:59:59Z"},
         "contact-info":"tlsrpt@sender.example","report-id":"{{id}}",
         "policies":[{"policy":{"policy-type":"sts","policy-domain":"{{domain}}","mx-host":["mx.{{domain}}"],"policy-string":["version: STSv1","mode: enforce","mx: mx.{{domain}}","max_age: 86400"]},
                      "summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":{{failed}}},
                      "failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.7","receiving-mx-hostname":"mx.{{domain}}","failed-session-count":{{failed}}}]}]}
        """;

    private static byte[] Gzip(string s)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, true))
            gz.Write(Encoding.UTF8.GetBytes(s));
        return ms.ToArray();
    }

    [Fact]
    public async Task Reports_posted_and_mailed_are_stored_once_and_summarised()
    {
        int port = FreePort.Tcp(), metricsPort = FreePort.Tcp(), consolePort = FreePort.Tcp();
        string db = Path.Combine(_dir, "tlsrpt.db");
        // example.com is the operator's own (published) domain: it alone gets a metric label of its own.
        string yaml = $"tlsrpt:\n  database: {db}\n  receive_listen: [\"127.0.0.1:{port}\"]\nmetrics:\n  listen: [\"127.0.0.1:{metricsPort}\"]\n"
            + $"console:\n  listen: [\"127.0.0.1:{consolePort}\"]\npublish:\n  domains:\n    example.com:\n      mode: testing\n      mx: [mx.example.com]\n";
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"), yaml, _ct);
        string config = Path.Combine(_dir, $"portcullis-{daemon.Port}.yaml");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        async Task<HttpStatusCode> Post(byte[] body, string type)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            return (await http.PostAsync("tlsrpt", content, _ct)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.Created, await Post(Gzip(Report("r1", "example.com", 90, 10)), "application/tlsrpt+gzip"));
        Assert.Equal(HttpStatusCode.OK, await Post(Gzip(Report("r1", "example.com", 90, 10)), "application/tlsrpt+gzip")); // duplicate
        Assert.Equal(HttpStatusCode.Created, await Post(Encoding.UTF8.GetBytes(Report("r2", "example.com", 5, 0)), "application/tlsrpt+json"));
        Assert.Equal(HttpStatusCode.BadRequest, await Post(Encoding.UTF8.GetBytes("{\"report-id\":1}"), "application/tlsrpt+json"));
        Assert.Equal(HttpStatusCode.BadRequest, await Post([0x1f, 0x8b, 1, 2, 3], "application/tlsrpt+gzip"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await Post([1], "text/html"));

        // A report mail as senders send it (RFC 8460 §5.3), delivered into a Maildir.
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("noreply-tlsrpt@sender.example"));
        mail.To.Add(MailboxAddress.Parse("tlsrpt@example.org"));
        mail.Subject = "Report Domain: example.org Submitter: sender.example Report-ID: <r3@sender.example>";
        mail.Headers.Add("TLS-Report-Domain", "example.org");
        mail.Headers.Add("TLS-Report-Submitter", "sender.example");
        var report = new MultipartReport("tlsrpt");
        report.Add(new TextPart("plain") { Text = "This is an aggregate TLS report from sender.example" });
        report.Add(new MimePart("application", "tlsrpt+gzip")
        {
            Content = new MimeContent(new MemoryStream(Gzip(Report("r3", "example.org", 40, 2, "2026-11-21")))),
            ContentTransferEncoding = ContentEncoding.Base64,
            FileName = "sender.example!example.org!1763683200!1763769599.json.gz",
        });
        mail.Body = report;
        string maildir = Path.Combine(_dir, "Maildir");
        Directory.CreateDirectory(Path.Combine(maildir, "new"));
        Directory.CreateDirectory(Path.Combine(maildir, "cur"));
        await mail.WriteToAsync(Path.Combine(maildir, "new", "1763769600.M1P1.host"), _ct);
        await File.WriteAllTextAsync(Path.Combine(maildir, "cur", "1763769601.M2P2.host:2,S"), "Subject: hello\r\n\r\nnot a report\r\n", _ct);

        var imported = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "import", maildir, "--config", config], _ct);
        Assert.Equal(1, imported.ExitCode); // the second message is not a report: reported, not fatal to the first
        Assert.Contains("stored: report r3 from Sender r3", imported.Stdout);
        Assert.Contains("no application/tlsrpt+gzip or +json part", imported.Stdout);
        var again = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "import", maildir, "--config", config], _ct);
        Assert.Contains("duplicate: report r3 already stored", again.Stdout); // importing twice stores nothing twice

        var summary = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "summary", "--since", "2026-11-01", "--config", config], _ct);
        Assert.True(summary.ExitCode == 0, summary.Stderr);
        var lines = summary.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("2026-11-20 example.com", StringComparison.Ordinal) && l.Contains("     95       10  certificate-expired 10 (192.0.2.7)"));
        Assert.Contains(lines, l => l.StartsWith("2026-11-21 example.org", StringComparison.Ordinal) && l.Contains("     40        2"));
        Assert.Contains("2 row(s)", summary.Stdout);

        // Metrics count what the daemon received; the page shows everything stored.
        string metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics", _ct);
        Assert.Contains("portcullis_tlsrpt_reports_total{outcome=\"stored\"} 2", metrics);
        Assert.Contains("portcullis_tlsrpt_reports_total{outcome=\"duplicate\"} 1", metrics);
        Assert.Contains("portcullis_tlsrpt_reports_total{outcome=\"invalid\"} 2", metrics);
        Assert.Contains("portcullis_tlsrpt_sessions_total{policy_domain=\"example.com\",result=\"success\"} 95", metrics);
        Assert.Contains("portcullis_tlsrpt_failure_sessions_total{policy_domain=\"example.com\",result_type=\"certificate-expired\"} 10", metrics);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/", _ct)).StatusCode); // the page is not on the public listener
        // The operator console (its own listener) shows everything stored: the page and its JSON API.
        Assert.Contains("<title>", await http.GetStringAsync($"http://127.0.0.1:{consolePort}/", _ct));
        using var received = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{consolePort}/api/tlsrpt/received", _ct));
        var domains = received.RootElement.GetProperty("domains").EnumerateArray().ToDictionary(d => d.GetProperty("domain").GetString()!);
        Assert.Equal(["example.com", "example.org"], domains.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((95, 10), (domains["example.com"].GetProperty("successful").GetInt64(), domains["example.com"].GetProperty("failed").GetInt64()));
        var failure = Assert.Single(domains["example.com"].GetProperty("failure_types").EnumerateArray());
        Assert.Equal(("certificate-expired", 10, "192.0.2.7"), (failure.GetProperty("result_type").GetString(), failure.GetProperty("sessions").GetInt64(),
            Assert.Single(failure.GetProperty("sending_ips").EnumerateArray()).GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{metricsPort}/", _ct)).StatusCode);
    }

    private async Task<string> ConfigAsync()
    {
        string config = Path.Combine(_dir, "portcullis.yaml");
        await File.WriteAllTextAsync(config, $"tlsrpt:\n  database: {Path.Combine(_dir, "tlsrpt.db")}\n", _ct);
        return config;
    }

    [Fact]
    public async Task A_plain_directory_is_imported_recursively_with_an_outcome_per_file_and_a_total()
    {
        string config = await ConfigAsync();
        string reports = Path.Combine(_dir, "reports");
        Directory.CreateDirectory(Path.Combine(reports, "2026", "11"));
        await File.WriteAllTextAsync(Path.Combine(reports, "a.json"), Report("d1", "example.com", 1, 0), _ct);
        await File.WriteAllBytesAsync(Path.Combine(reports, "2026", "11", "b.json.gz"), Gzip(Report("d2", "example.com", 2, 0)), _ct);
        await File.WriteAllTextAsync(Path.Combine(reports, "2026", "broken.json"), "{\"report-id\":", _ct);
        await File.WriteAllTextAsync(Path.Combine(reports, "notes.txt"), "not a report, not looked at", _ct);
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("noreply-tlsrpt@sender.example"));
        mail.To.Add(MailboxAddress.Parse("tlsrpt@example.com"));
        mail.Subject = "Report Domain: example.com Submitter: sender.example Report-ID: <d3@sender.example>";
        var part = new MultipartReport("tlsrpt");
        part.Add(new TextPart("plain") { Text = "TLS report" });
        part.Add(new MimePart("application", "tlsrpt+gzip")
        {
            Content = new MimeContent(new MemoryStream(Gzip(Report("d3", "example.com", 3, 0)))),
            ContentTransferEncoding = ContentEncoding.Base64,
        });
        mail.Body = part;
        await mail.WriteToAsync(Path.Combine(reports, "2026", "c.eml"), _ct);

        var run = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "import", reports, "--config", config], _ct);
        Assert.Equal(1, run.ExitCode); // one file failed
        Assert.Contains("a.json: stored: report d1", run.Stdout);
        Assert.Contains("b.json.gz: stored: report d2", run.Stdout);
        Assert.Contains("broken.json: invalid:", run.Stdout);
        Assert.Contains("c.eml: stored: report d3", run.Stdout);
        Assert.DoesNotContain("notes.txt", run.Stdout);
        Assert.Contains("3 stored, 0 duplicate, 1 failed", run.Stdout);

        File.Delete(Path.Combine(reports, "2026", "broken.json"));
        var again = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "import", reports, "--config", config], _ct);
        Assert.True(again.ExitCode == 0, again.Stdout);
        Assert.Contains("0 stored, 3 duplicate, 0 failed", again.Stdout);

        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var none = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "import", empty, "--config", config], _ct);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no .json, .json.gz, .eml files", none.Stdout);
    }

    [Theory]
    [InlineData("summary", "--since", "notadate")]
    [InlineData("summary", "--since", "2026-02-30")]
    [InlineData("sent", "--since", "x")]
    [InlineData("send", "--day", "2026-13-45")]
    [InlineData("send", "--day", "yesterday")]
    public async Task A_bad_date_is_one_usage_line_and_exit_64(string command, string option, string value)
    {
        string config = await ConfigAsync();
        var run = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", command, option, value, "--config", config], _ct);
        Assert.Equal(64, run.ExitCode);
        Assert.Equal($"portcullis: {option} '{value}' is not a date; expected YYYY-MM-DD (a real calendar day, e.g. 2026-02-28)\n", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
