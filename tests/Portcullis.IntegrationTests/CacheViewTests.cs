using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// What the cache tools and `query` say about a running daemon: the reply Postfix gets now (TEMP is
/// not NOTFOUND, expired rows are marked, overrides shown) and whether the daemon's cache agrees;
/// and without a daemon, no tool creates an empty store.
/// </summary>
public sealed class CacheViewTests : IAsyncLifetime
{
    private const string Hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-view-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private DnsWorld _dns = null!;

    public async Task InitializeAsync()
    {
        var w = new DnsWorldBuilder();
        w.Zone("view.test")
            .Mx("mx.dane.view.test.", owner: "dane").A("mx.dane", "127.0.0.1").Tlsa("_25._tcp.mx.dane", 3, 1, 1, Hash)
            // No DANE, no MTA-STS: with cache.negative_ttl 1 the "no MTA-STS" state is stale at once.
            .Mx("mx.plain.view.test.", owner: "plain").A("mx.plain", "127.0.0.1");
        w.Zone("bogus.test", bogusDs: true).Mx("mx.bogus.test.");
        _dns = await w.StartAsync(_ct);
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Cli(params string[] args) =>
        DaemonProcess.RunCliAsync(new Dictionary<string, string>(), args, _ct);

    [Fact]
    public async Task List_show_and_query_show_what_postfix_gets_now_and_why()
    {
        string cache = Path.Combine(_dir, "cache.db");
        await using var daemon = await DaemonProcess.StartAsync(_dns.ResolverEndpoint, new Dictionary<string, string>(), cache,
            $"dns:\n  server: \"{_dns.ResolverEndpoint}\"\ncache:\n  negative_ttl: 1\nrefresh:\n  enabled: false\noverrides:\n  pinned.view.test: {{ policy: encrypt }}\n  dane.view.test: {{ policy: \"secure match=x.test\", expires: 2020-01-01 }}\n", _ct);
        string config = Path.Combine(_dir, $"portcullis-{daemon.Port}.yaml");
        await using (var c = await daemon.ConnectAsync(_ct))
        {
            Assert.StartsWith("OK dane-only", await c.QueryAsync("QUERY", "dane.view.test", _ct));
            Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", "plain.view.test", _ct));
            Assert.StartsWith("TEMP", await c.QueryAsync("QUERY", "bogus.test", _ct));
            Assert.Equal("OK encrypt", await c.QueryAsync("QUERY", "pinned.view.test", _ct));
        }
        await Task.Delay(TimeSpan.FromSeconds(3), _ct); // plain.view.test's 1 s negative TTL passes

        var list = await Cli("cache", "list", "--config", config, "--cache", cache);
        Assert.True(list.ExitCode == 0, list.Stderr);
        string Row(string domain) => list.Stdout.Split('\n').Single(l => l.StartsWith(domain + " ", StringComparison.Ordinal));
        Assert.Matches(@"^dane\.view\.test\s+cache\s+dane\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1  OK dane-only$", Row("dane.view.test")); // its override expired in 2020
        Assert.Matches(@"^plain\.view\.test\s+expired\s+none\s+.*live lookup on the next query", Row("plain.view.test"));
        Assert.Matches(@"^pinned\.view\.test\s+override\s+.*  OK encrypt$", Row("pinned.view.test"));
        // The daemon answers TEMP for bogus.test: the list must not claim NOTFOUND for it.
        Assert.DoesNotContain(list.Stdout.Split('\n'), l => l.StartsWith("bogus.test ", StringComparison.Ordinal) && l.EndsWith("NOTFOUND ", StringComparison.Ordinal));

        var show = await Cli("cache", "show", "bogus.test", "--config", config, "--cache", cache);
        Assert.DoesNotContain("Postfix gets now: NOTFOUND", show.Stdout);
        Assert.Contains("Postfix answer:  TEMP", show.Stdout);                    // the live resolution, as a value
        Assert.Contains("Postfix's next query gets the live answer (TEMP", show.Stdout);
        var shown = await Cli("cache", "show", "pinned.view.test", "--config", config, "--cache", cache);
        Assert.Contains("Postfix gets now: OK encrypt", shown.Stdout);
        Assert.Contains("from:          override", shown.Stdout);

        // query finds the daemon's control socket from the configuration, as the daemon's own file would say.
        string queryConfig = Path.Combine(_dir, "query.yaml");
        await File.WriteAllTextAsync(queryConfig, $"dns:\n  server: \"{_dns.ResolverEndpoint}\"\ncache:\n  path: {cache}\n", _ct);
        var query = await Cli("query", "dane.view.test", "--config", queryConfig);
        Assert.Contains("Daemon cache:    the running daemon answers \"OK dane-only\" from its cache", query.Stdout);
        Assert.Contains("agrees with this lookup", query.Stdout);

        Assert.Equal(0, await daemon.StopAsync(_ct));
        var offline = await Cli("query", "dane.view.test", "--config", queryConfig);
        Assert.Contains($"Daemon cache:    no daemon answers on {Path.Combine(_dir, "cache.sock")}", offline.Stdout);
        var fromFile = await Cli("cache", "list", "--config", config, "--cache", cache);
        Assert.Contains($"reading the sqlite cache {cache} directly", fromFile.Stderr);
        Assert.Matches(@"(?m)^pinned\.view\.test\s+override\s+.*  OK encrypt$", fromFile.Stdout);
    }

    [Theory]
    [InlineData("purge")]
    [InlineData("list")]
    [InlineData("export")]
    public async Task Without_a_daemon_or_a_cache_file_every_tool_refuses_alike_and_creates_nothing(string command)
    {
        string missing = Path.Combine(_dir, "nothing-here", "cache.db");
        var run = await Cli("cache", command, "--cache", missing);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"the sqlite cache {missing} does not exist: nothing to", run.Stderr);
        Assert.False(File.Exists(missing));
        Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));
    }
}
