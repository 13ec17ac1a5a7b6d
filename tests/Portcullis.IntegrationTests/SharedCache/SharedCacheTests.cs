using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using StackExchange.Redis;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.SharedCache;

/// <summary>Real redis-server and PostgreSQL shared by two daemons, plus the stores' own rules.</summary>
[Collection(MtaStsWorld.Name)]
public sealed class SharedCacheTests(MtaStsWorldFixture world) : IAsyncLifetime
{
    private const string Z = MtaStsWorldFixture.Zone;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
    private RedisServer _redis = null!;
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _postgres = await PostgresServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    private string RedisYaml => $"cache:\n  type: redis\n  redis: \"{_redis.Configuration}\"\n";
    private string PostgresYaml => $"cache:\n  type: postgres\n  postgres: \"{_postgres.ConnectionString}\"\n";

    [Theory]
    [InlineData("redis", "sharedredis")]
    [InlineData("postgres", "sharedpg")]
    public async Task Two_daemons_share_one_resolution(string backend, string name)
    {
        string yaml = backend == "redis" ? RedisYaml : PostgresYaml;
        await using var a = await world.StartDaemonAsync($"{backend}-a.db", yaml);
        await using var b = await world.StartDaemonAsync($"{backend}-b.db", yaml);
        string expected = $"OK secure match=mail.{name}.{Z} servername=hostname";
        await using (var c = await a.ConnectAsync(_ct))
            Assert.Equal(expected, await c.QueryAsync("QUERY", $"{name}.{Z}", _ct));
        await using (var c = await b.ConnectAsync(_ct))
            Assert.Equal(expected, await c.QueryAsync("QUERY", $"{name}.{Z}", _ct));
        Assert.Single(world.Host.RequestsFor($"mta-sts.{name}.{Z}"));
    }

    private static StsCacheEntry Entry(string domain, string id, DateTimeOffset updated) => new()
    {
        Domain = domain, TxtId = id, RecheckAt = updated.AddHours(1), UpdatedAt = updated, Reason = "test " + id,
    };

    [Fact]
    public async Task Redis_entries_expire_with_a_ttl()
    {
        await using var store = Portcullis.Storage.PolicyStore.ConnectRedis(_redis.Configuration, "ttl");
        var now = DateTimeOffset.UtcNow;
        await store.SetAsync(Entry("t.example", "1", now) with { RecheckAt = now.AddMinutes(10) }, _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync("ttl:sts:t.example");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_cache_outage_degrades_to_live_lookups_and_is_logged_once()
    {
        int closed = FreePort.Tcp();
        await using var daemon = await world.StartDaemonAsync("outage.db", $"cache:\n  type: redis\n  redis: \"127.0.0.1:{closed}\"\n");
        await using var c = await daemon.ConnectAsync(_ct);
        for (int i = 0; i < 3; i++)
            Assert.Equal($"OK secure match=mail.spf.{Z} servername=hostname", await c.QueryAsync("QUERY", $"spf.{Z}", _ct));
        Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"nosts.{Z}", _ct));
        Assert.True(await daemon.WaitForOutputAsync("Cache store unavailable"), daemon.Output);
        Assert.Single(daemon.Output.Split('\n'), l => l.Contains("Cache store unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Received_tlsrpt_reports_can_live_in_postgres_shared_by_two_receivers()
    {
        string prefix = "r" + Guid.NewGuid().ToString("N")[..6];
        // Receivers on their own loopback addresses, so they cannot collide with the daemons' free ports.
        string net = $"127.12.{Random.Shared.Next(1, 250)}";
        string portA = $"{net}.1:8443", portB = $"{net}.2:8443";
        string consoleB = $"{net}.2:8444";
        string Yaml(string listen) => $"cache:\n  key_prefix: {prefix}\ntlsrpt:\n  store: postgres\n  postgres: \"{_postgres.ConnectionString}\"\n  receive_listen: [\"{listen}\"]\n"
            + (listen == portB ? $"console:\n  listen: [\"{consoleB}\"]\n" : "");
        await using var a = await world.StartDaemonAsync("pg-rpt-a.db", Yaml(portA));
        await using var b = await world.StartDaemonAsync("pg-rpt-b.db", Yaml(portB));
        string day = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string report = $$"""
            {"organization-name":"Sender PG","date-range":{"start-datetime":"{{day}}T00:00:00Z","end-datetime":"{{day}}T23:59:59Z"},
             "contact-info":"tlsrpt@sender.example","report-id":"pg-1",
             "policies":[{"policy":{"policy-type":"tlsa","policy-domain":"pg.example","policy-string":["3 1 1 AB"]},
                          "summary":{"total-successful-session-count":12,"total-failure-session-count":1},
                          "failure-details":[{"result-type":"tlsa-invalid","sending-mta-ip":"192.0.2.9","failed-session-count":1}]}]}
            """;
        using var http = new HttpClient();
        async Task<System.Net.HttpStatusCode> Post(string port)
        {
            using var content = new StringContent(report, System.Text.Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/tlsrpt+json");
            return (await http.PostAsync($"http://{port}/tlsrpt", content, _ct)).StatusCode;
        }
        Assert.Equal(System.Net.HttpStatusCode.Created, await Post(portA));
        Assert.Equal(System.Net.HttpStatusCode.OK, await Post(portB)); // the other receiver already has it
        using var store = new Portcullis.Storage.Reports.PostgresReportStore(_postgres.ConnectionString, prefix, 1 << 30);
        var stored = Assert.Single((await store.SummaryAsync(DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-10)), null, 10, _ct)).Rows);
        Assert.Equal(("pg.example", 12L, 1L), (stored.PolicyDomain, stored.Successful, stored.Failed));
        Assert.Equal(("tlsa-invalid", 1L), (stored.Failures[0].ResultType, stored.Failures[0].Sessions));
        // B's operator console shows the report A stored.
        string page = await http.GetStringAsync($"http://{consoleB}/api/tlsrpt/received", _ct);
        Assert.Contains("\"domain\":\"pg.example\"", page);
    }
}
