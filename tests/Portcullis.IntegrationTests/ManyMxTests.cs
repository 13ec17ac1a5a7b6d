using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// Hostile DNS data in a real signed world: a domain with hundreds of MX hosts costs a bounded number of
/// lookups (counted by the daemon's own DNS metrics), and invalid punycode keys or MX names are
/// clear one-line answers, not stack traces.
/// </summary>
public sealed class ManyMxTests : IAsyncLifetime
{
    private const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    // The test unbound (1.17) answers SERVFAIL for MX RRsets of 200+ (the attack used another resolver); 100 cost 300+ lookups uncapped.
    private const int Hosts = 100;
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-manymx-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private DnsWorld _dns = null!;
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync()
    {
        var w = new DnsWorldBuilder();
        var z = w.Zone("many.test");
        // Hundreds of MX hosts, every one with an address and a usable TLSA record.
        for (int i = 0; i < Hosts; i++)
            z.Mx($"mx{i}.many.test.", 10 + i).A($"mx{i}").Tlsa($"_25._tcp.mx{i}", 3, 1, 1, Sha256);
        // An MX host whose name is invalid punycode.
        z.Mx("xn--zz.many.test.", owner: "badname").A("xn--zz");
        _dns = await w.StartAsync(_ct);
        _daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, new Dictionary<string, string>(), Path.Combine(_dir, "cache.db"),
            "limits:\n  max_mx_hosts: 5\n", _ct);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await _dns.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task A_domain_with_a_hundred_mx_hosts_costs_a_bounded_number_of_dns_queries()
    {
        long before = await DnsLookupsAsync();
        await using var client = await _daemon.ConnectAsync(_ct);
        string answer = await client.QueryAsync("QUERY", "many.test", _ct);
        long queries = await DnsLookupsAsync() - before;
        // Every examined host has usable TLSA and Postfix connects only to the first few addresses.
        Assert.True(answer == "OK dane-only", answer + "\n" + _dns.ResolverLog);
        // MX + MTA-STS TXT + 5 hosts x (A, AAAA, TLSA): 17; all 100 hosts would be 300+.
        Assert.True(queries <= 25, $"{queries} DNS lookups for one domain with {Hosts} MX hosts");
        var (exit, stdout, _) = await DaemonProcess.RunQueryAsync(_dns.ResolverEndpoint, new Dictionary<string, string>(),
            ["many.test"], _ct);
        Assert.Equal(0, exit);
        Assert.Contains($"{Hosts - 5} more not examined", stdout);
    }

    [Fact]
    public async Task Invalid_punycode_keys_are_notfound_with_one_log_line_and_no_stack_trace()
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        for (int i = 0; i < 20; i++)
            Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", "xn--zz.test", _ct));
        Assert.True(await _daemon.WaitForOutputAsync("Invalid key 'xn--zz.test' answered NOTFOUND"), _daemon.Output);
        await Task.Delay(500, _ct); // any further lines would have arrived by now
        Assert.Equal(1, Count(_daemon.Output, "Invalid key"));
        Assert.DoesNotContain("   at ", _daemon.Output);
        Assert.DoesNotContain("internal error", _daemon.Output);
    }

    [Fact]
    public async Task An_mx_host_with_an_invalid_punycode_name_defers_without_a_stack_trace()
    {
        await using var client = await _daemon.ConnectAsync(_ct);
        for (int i = 0; i < 5; i++)
        {
            string answer = await client.QueryAsync("QUERY", "badname.many.test", _ct);
            Assert.StartsWith("TEMP ", answer);
            Assert.DoesNotContain("internal error", answer);
        }
        Assert.DoesNotContain("   at ", _daemon.Output);
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
            n++;
        return n;
    }

    /// <summary>Sum of portcullis_dns_lookup_seconds_count over all record types, scraped from the socketmap port.</summary>
    private async Task<long> DnsLookupsAsync()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _daemon.Port, _ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), _ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string text = await reader.ReadToEndAsync(_ct);
        return text.Split('\n')
            .Where(l => l.StartsWith("portcullis_dns_lookup_seconds_count", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..].Trim(), CultureInfo.InvariantCulture));
    }
}
