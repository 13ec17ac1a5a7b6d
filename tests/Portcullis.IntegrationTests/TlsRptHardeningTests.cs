using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>The public report listener under the attacks of issue 11, against the real daemon.</summary>
public sealed class TlsRptHardeningTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-tlsrpt-hard-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(180)).Token;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    internal static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A report with <paramref name="domains"/> policies, each with <paramref name="details"/> failure details.</summary>
    internal static string Report(string id, int domains, int details = 1, string ok = "90", string resultType = "certificate-expired",
        string domainPrefix = "d")
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $$"""{"organization-name":"Sender {{id}}","date-range":{"start-datetime":"{{Today}}T00:00:00Z","end-datetime":"{{Today}}T23:59:59Z"},"contact-info":"x@sender.example","report-id":"{{id}}","policies":[""");
        for (int d = 0; d < domains; d++)
        {
            if (d > 0)
                sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $$"""{"policy":{"policy-type":"sts","policy-domain":"{{domainPrefix}}{{d}}-{{id}}.example"},"summary":{"total-successful-session-count":{{ok}},"total-failure-session-count":{{details}}},"failure-details":[""");
            for (int f = 0; f < details; f++)
            {
                if (f > 0)
                    sb.Append(',');
                sb.Append(CultureInfo.InvariantCulture, $$"""{"result-type":"{{resultType}}{{(resultType == "random" ? $"-{id}-{d}-{f}" : "")}}","sending-mta-ip":"10.{{f / 65536 % 256}}.{{f / 256 % 256}}.{{f % 256}}","failed-session-count":1}""");
            }
            sb.Append("]}");
        }
        sb.Append("]}");
        return sb.ToString();
    }

    internal static byte[] Gzip(string s)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, true))
            gz.Write(Encoding.UTF8.GetBytes(s));
        return ms.ToArray();
    }

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient http, string url, byte[] body, CancellationToken ct, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(body.Length > 1 && body[0] == 0x1f ? "application/tlsrpt+gzip" : "application/tlsrpt+json");
        if (host is not null)
            request.Headers.Host = host;
        return await http.SendAsync(request, ct);
    }

    private async Task<(DaemonProcess Daemon, int Reports, int Metrics, int Console)> StartAsync(string extraYaml = "", string? dataDir = null)
    {
        int reports = FreePort.Tcp(), metrics = FreePort.Tcp(), console = FreePort.Tcp();
        string yaml = $"data_dir: {dataDir ?? _dir}\ntlsrpt:\n  receive_listen: [\"127.0.0.1:{reports}\"]\n{extraYaml}"
            + $"metrics:\n  listen: [\"127.0.0.1:{metrics}\"]\nconsole:\n  listen: [\"127.0.0.1:{console}\"]\n";
        var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"), yaml, _ct);
        // Ready means the socketmap port accepts; the HTTP listeners are bound in the same start, a moment apart.
        foreach (int port in new[] { reports, metrics, console })
            Assert.True(await FreePort.WaitUntilListeningAsync(port, 300, _ct), $"nothing listens on {port}:\n{daemon.Output}");
        return (daemon, reports, metrics, console);
    }

    private string Config(DaemonProcess daemon) => Path.Combine(_dir, $"portcullis-{daemon.Port}.yaml");

    [Fact]
    public async Task Listeners_are_chosen_by_the_connection_never_by_the_host_header()
    {
        var (daemon, reports, metrics, console) = await StartAsync();
        await using var _ = daemon;
        string url = $"http://127.0.0.1:{reports}/tlsrpt";
        // Behind a TLS proxy the public name arrives as Host, with or without :443.
        using (var r = await PostAsync(_http, url, Encoding.UTF8.GetBytes(Report("h1", 1)), _ct, "reports.example.com"))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await PostAsync(_http, url, Gzip(Report("h2", 1)), _ct, "x:443"))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        // Naming the metrics listener in Host does not make the public listener serve /metrics.
        using (var req = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{reports}/metrics"))
        {
            req.Headers.Host = $"127.0.0.1:{metrics}";
            using var r = await _http.SendAsync(req, _ct);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.DoesNotContain("portcullis_", await r.Content.ReadAsStringAsync(_ct));
        }
        using (var req = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{reports}/"))
        {
            req.Headers.Host = $"127.0.0.1:{console}";
            Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(req, _ct)).StatusCode); // the page is not public
        }
        // The metrics and console listeners refuse reports, whatever Host says.
        using (var r = await PostAsync(_http, $"http://127.0.0.1:{metrics}/tlsrpt", Gzip(Report("h3", 1)), _ct, $"127.0.0.1:{reports}"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await PostAsync(_http, $"http://127.0.0.1:{console}/tlsrpt", Gzip(Report("h4", 1)), _ct))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"http://127.0.0.1:{console}/metrics", _ct)).StatusCode);
        Assert.Contains("portcullis_tlsrpt_reports_total{outcome=\"stored\"} 2", await _http.GetStringAsync($"http://127.0.0.1:{metrics}/metrics", _ct));
        Assert.Contains("d0-h2.example", await _http.GetStringAsync($"http://127.0.0.1:{console}/api/tlsrpt/received", _ct));
        // Without a token the console answers only to names that cannot be rebound to 127.0.0.1 by someone else's DNS.
        using (var req = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{console}/api/tlsrpt/received"))
        {
            req.Headers.Host = $"rebound.example:{console}";
            Assert.Equal(HttpStatusCode.MisdirectedRequest, (await _http.SendAsync(req, _ct)).StatusCode);
        }
    }

    [Fact]
    public async Task Absurd_session_counts_are_refused_with_a_reason_and_summaries_keep_working()
    {
        var (daemon, reports, _, console) = await StartAsync();
        await using var _d = daemon;
        string url = $"http://127.0.0.1:{reports}/tlsrpt";
        for (int i = 0; i < 2; i++)
        {
            using var r = await PostAsync(_http, url, Encoding.UTF8.GetBytes(Report($"big{i}", 1, ok: "9223372036854775807", domainPrefix: "same")), _ct);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("policies[0]: session count 9223372036854775807 is above 1000000000000\n", await r.Content.ReadAsStringAsync(_ct));
        }
        // The largest accepted count, twice for the same domain and day: the sums stay exact.
        for (int i = 0; i < 2; i++)
        {
            using var r = await PostAsync(_http, url, Encoding.UTF8.GetBytes(Report($"max{i}", 1, ok: "1000000000000").Replace($"d0-max{i}", "d0-max")), _ct);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        using (var page = await _http.GetAsync($"http://127.0.0.1:{console}/api/tlsrpt/received", _ct))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("\"successful\":2000000000000", await page.Content.ReadAsStringAsync(_ct));
        }
        var summary = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "summary", "--config", Config(daemon)], _ct);
        Assert.True(summary.ExitCode == 0, summary.Stderr);
        Assert.Contains(summary.Stdout.Split('\n'), l => l.StartsWith($"{Today} d0-max.example", StringComparison.Ordinal) && l.Contains(" 2000000000000 "));
        Assert.DoesNotContain("   at ", daemon.Output + summary.Stderr);
    }

    [Fact]
    public async Task Label_flood_keeps_metrics_small_and_memory_bounded()
    {
        var (daemon, reports, metrics, _) = await StartAsync();
        await using var _d = daemon;
        string url = $"http://127.0.0.1:{reports}/tlsrpt";
        // The attack as measured: 10 POSTs of ~250 KB gzip, 40,000 distinct policy domains each. Now refused at parse time.
        byte[] attack = Gzip(Report("flood", 40_000, details: 0));
        Assert.InRange(attack.Length, 100_000, 2_000_000);
        for (int i = 0; i < 10; i++)
        {
            using var r = await PostAsync(_http, url, attack, _ct);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("more than 300000 JSON values in one report\n", await r.Content.ReadAsStringAsync(_ct));
        }
        byte[] manyPolicies = Gzip(Report("flood2", 15_000, details: 0)); // under the token bound: refused by the policy bound
        for (int i = 0; i < 10; i++)
        {
            using var r = await PostAsync(_http, url, manyPolicies, _ct);
            Assert.Equal("more than 100 policies in one report\n", await r.Content.ReadAsStringAsync(_ct));
        }
        long rss0 = daemon.ResidentBytes();
        // Accepted reports, as many distinct domains and result types as the bounds allow: 20,000 domains, 20,000 result types.
        for (int i = 0; i < 200; i++)
        {
            using var r = await PostAsync(_http, url, Gzip(Report($"f{i}", 100, resultType: "random")), _ct);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        string text = await _http.GetStringAsync($"http://127.0.0.1:{metrics}/metrics", _ct);
        var tlsrpt = text.Split('\n').Where(l => l.StartsWith("portcullis_tlsrpt_", StringComparison.Ordinal)).ToList();
        Assert.True(text.Length < 64 * 1024, $"/metrics is {text.Length} bytes");
        Assert.True(tlsrpt.Count <= 10, string.Join('\n', tlsrpt));
        Assert.Contains("portcullis_tlsrpt_sessions_total{policy_domain=\"other\",result=\"success\"} 1800000", tlsrpt);
        Assert.Contains("portcullis_tlsrpt_failure_sessions_total{policy_domain=\"other\",result_type=\"other\"} 20000", tlsrpt);
        long rss = daemon.ResidentBytes();
        output.WriteLine($"RSS after the refused flood {rss0 / 1048576} MB, after 200 accepted reports {rss / 1048576} MB; /metrics {text.Length} bytes");
        Assert.True(rss < 200L * 1024 * 1024, $"RSS {rss / 1048576} MB");
    }

    [Fact]
    public async Task A_full_quota_refuses_reports_with_507_logged_once_and_summaries_still_work()
    {
        var (daemon, reports, _, console) = await StartAsync("  receive_quota_mb: 1\n");
        await using var _d = daemon;
        string url = $"http://127.0.0.1:{reports}/tlsrpt";
        HttpStatusCode status = HttpStatusCode.Created;
        int stored = 0;
        for (int i = 0; i < 200 && status == HttpStatusCode.Created; i++)
        {
            using var r = await PostAsync(_http, url, Gzip(Report($"q{i}", 10, 20)), _ct);
            status = r.StatusCode;
            stored += status == HttpStatusCode.Created ? 1 : 0;
        }
        Assert.Equal(HttpStatusCode.InsufficientStorage, status);
        Assert.InRange(stored, 1, 199);
        for (int i = 0; i < 3; i++)
        {
            using var r = await PostAsync(_http, url, Gzip(Report($"more{i}", 10, 20)), _ct);
            Assert.Equal(HttpStatusCode.InsufficientStorage, r.StatusCode);
        }
        using (var dup = await PostAsync(_http, url, Gzip(Report("q0", 10, 20)), _ct))
            Assert.Equal(HttpStatusCode.OK, dup.StatusCode); // a sender retrying a stored report still hears "stored"
        Assert.True(await daemon.WaitForOutputAsync("TLS-RPT report store is full"), daemon.Output);
        Assert.Single(daemon.Output.Split('\n'), l => l.Contains("TLS-RPT report store is full", StringComparison.Ordinal));
        Assert.Contains("d0-q0.example", await _http.GetStringAsync($"http://127.0.0.1:{console}/api/tlsrpt/received", _ct));
        var summary = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["tlsrpt", "summary", "--config", Config(daemon)], _ct);
        Assert.Contains($"{stored * 10} row(s)", summary.Stdout);
        var file = new FileInfo(Path.Combine(_dir, "tlsrpt-reports.db"));
        Assert.True(file.Exists && file.Length < 2 * 1024 * 1024, $"{file.Length} bytes");
    }

    [Fact]
    public async Task A_full_disk_fails_reports_cleanly_once_logged_and_they_recover_without_a_restart()
    {
        // A real full filesystem: a 4 MB tmpfs for the data directory (reports database and the collector's).
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        await RunAsync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", data]);
        try
        {
            var (daemon, reports, _, _) = await StartAsync($"  collect_socket: {Path.Combine(_dir, "collect.sock")}\n", dataDir: data);
            await using var _d = daemon;
            string url = $"http://127.0.0.1:{reports}/tlsrpt";
            using (var r = await PostAsync(_http, url, Gzip(Report("before", 5, 20)), _ct))
                Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            string filler = Path.Combine(data, "filler");
            await FillAsync(filler);

            for (int i = 0; i < 3; i++)
            {
                using var r = await PostAsync(_http, url, Gzip(Report($"full{i}", 50, 100)), _ct);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                Assert.NotNull(r.Headers.RetryAfter);
                Assert.Equal("report store unavailable; retry later\n", await r.Content.ReadAsStringAsync(_ct));
            }
            Assert.True(await daemon.WaitForOutputAsync("TLS-RPT report store unavailable"), daemon.Output);
            Assert.Single(daemon.Output.Split('\n'), l => l.Contains("TLS-RPT report store unavailable", StringComparison.Ordinal));

            File.Delete(filler);
            var recovery = System.Diagnostics.Stopwatch.StartNew();
            HttpStatusCode status;
            do
            {
                await Task.Delay(500, _ct);
                using var r = await PostAsync(_http, url, Gzip(Report("after", 50, 100)), _ct);
                status = r.StatusCode;
            }
            while (status != HttpStatusCode.Created && recovery.Elapsed < TimeSpan.FromSeconds(40));
            output.WriteLine($"stored again {recovery.Elapsed.TotalSeconds:F1} s after space returned");
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.True(recovery.Elapsed < TimeSpan.FromSeconds(30), $"{recovery.Elapsed}");
            Assert.True(await daemon.WaitForOutputAsync("TLS-RPT report store is available again"), daemon.Output);
            Assert.DoesNotContain("   at ", daemon.Output);
            await daemon.StopAsync(_ct);
        }
        finally
        {
            await RunAsync("umount", ["-l", data]);
        }
    }

    private static async Task FillAsync(string path)
    {
        await using var f = new FileStream(path, FileMode.Create);
        var chunk = new byte[64 * 1024];
        try
        {
            while (true)
                await f.WriteAsync(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: the filesystem is full.
        }
    }

    private async Task RunAsync(string program, string[] args)
    {
        using var p = System.Diagnostics.Process.Start(program, args);
        await p.WaitForExitAsync(_ct);
        Assert.Equal(0, p.ExitCode);
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, true);
    }
}
