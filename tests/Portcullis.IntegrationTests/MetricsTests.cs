using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>Prometheus metrics after known queries, scraped from the socketmap port and the metrics port.</summary>
[Collection(MtaStsWorld.Name)]
public sealed class MetricsTests(MtaStsWorldFixture world)
{
    private const string Z = MtaStsWorldFixture.Zone;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    [Fact]
    public async Task Metrics_count_queries_by_map_and_answer_cache_hits_and_fetch_failures()
    {
        int metricsPort = FreePort.Tcp();
        await using var daemon = await world.StartDaemonAsync("metrics.db", $"metrics:\n  listen: [\"127.0.0.1:{metricsPort}\"]\n");
        await using (var c = await daemon.ConnectAsync(_ct))
        {
            Assert.StartsWith("OK secure", await c.QueryAsync("QUERY", $"good.{Z}", _ct));        // miss
            Assert.StartsWith("OK secure", await c.QueryAsync("QUERY", $"good.{Z}", _ct));        // hit
            Assert.StartsWith("OK secure", await c.QueryAsync("QUERYwithTLSRPT", $"good.{Z}", _ct)); // hit
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"nosts.{Z}", _ct));            // miss
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"notfound.{Z}", _ct));         // miss, HTTP 404
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", "[192.0.2.1]", _ct));           // no lookup
            Assert.StartsWith("PERM", await c.QueryAsync("BOGUS", "x", _ct));
        }

        string text = await ScrapeRawAsync(daemon.Port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK", text);
        var m = Parse(text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Equal(2, m["portcullis_queries_total{answer=\"secure\",map=\"QUERY\"}"]);
        Assert.Equal(1, m["portcullis_queries_total{answer=\"secure\",map=\"QUERYwithTLSRPT\"}"]);
        Assert.Equal(3, m["portcullis_queries_total{answer=\"notfound\",map=\"QUERY\"}"]);
        Assert.Equal(1, m["portcullis_queries_total{answer=\"perm\",map=\"unknown\"}"]);
        Assert.Equal(2, m["portcullis_cache_requests_total{result=\"hit\"}"]);
        Assert.Equal(3, m["portcullis_cache_requests_total{result=\"miss\"}"]);
        Assert.Equal(1, m["portcullis_https_fetch_failures_total{reason=\"sts-policy-fetch-error\"}"]);
        Assert.Equal(2, m["portcullis_https_fetch_seconds_count"]);
        Assert.Equal(1, m["portcullis_resolver_validating"]);
        Assert.Equal(3, m["portcullis_cache_entries"]);
        Assert.True(m["portcullis_dns_lookup_seconds_count{type=\"MX\"}"] >= 3);

        // The same text from the dedicated metrics listener; other paths get 404 on the socketmap port.
        using var http = new HttpClient();
        string viaPort = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics", _ct);
        Assert.Contains("portcullis_queries_total{answer=\"secure\",map=\"QUERY\"} 2", viaPort);
        Assert.StartsWith("HTTP/1.1 404", await ScrapeRawAsync(daemon.Port, "GET /other HTTP/1.1\r\n\r\n"));

        // Socketmap traffic on the same port is unaffected.
        await using var after = await daemon.ConnectAsync(_ct);
        Assert.StartsWith("OK secure", await after.QueryAsync("QUERY", $"good.{Z}", _ct));
    }

    [Fact]
    public async Task A_no_policy_answer_to_queryWithTLSRPT_is_counted_as_the_level_postfix_was_told()
    {
        await using var daemon = await world.StartDaemonAsync("metrics-nopolicy.db");
        await using (var c = await daemon.ConnectAsync(_ct))
        {
            // First a lookup (full path), then the same reply from memory (the allocation-free path).
            for (int i = 0; i < 2; i++)
                Assert.Equal("OK dane policy_type=no-policy-found", await c.QueryAsync("QUERYwithTLSRPT", $"nosts.{Z}", _ct));
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"nosts.{Z}", _ct));
        }
        string text = await ScrapeRawAsync(daemon.Port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        var m = Parse(text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Equal(2, m["portcullis_queries_total{answer=\"no-policy-dane\",map=\"QUERYwithTLSRPT\"}"]);
        Assert.False(m.ContainsKey("portcullis_queries_total{answer=\"notfound\",map=\"QUERYwithTLSRPT\"}"), text);
        Assert.Equal(1, m["portcullis_queries_total{answer=\"notfound\",map=\"QUERY\"}"]);
        Assert.Equal(2, m["portcullis_cache_requests_total{result=\"hit\"}"]);
    }

    private async Task<string> ScrapeRawAsync(int port, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, _ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), _ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(_ct);
    }

    /// <summary>A Prometheus text exposition as series → value (also read by OwnDomainMonitoringTests).</summary>
    internal static Dictionary<string, double> Parse(string exposition)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            int space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return values;
    }
}
