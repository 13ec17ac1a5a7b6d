using System.Diagnostics;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// Attack run F8: after a resolver outage that spanned the DNSSEC self-test, or when the daemon
/// started before its resolver, dane-only domains were answered "OK dane" for minutes after the
/// resolver recovered, and that verdict was cached. The real unbound is killed and restarted here;
/// no answer for a dane-only domain may ever be weaker than dane-only (TEMP is allowed).
/// </summary>
public sealed class ResolverOutageTests
{
    private const string Sha256 = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
    private const string Yaml = "dns:\n  timeout_ms: 400\n  attempts: 1\nrefresh:\n  enabled: false\n";
    private static readonly string[] Allowed = ["OK dane-only", "TEMP"];
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    private static Task<DnsWorld> StartWorldAsync(CancellationToken ct)
    {
        var w = new DnsWorldBuilder();
        var z = w.Zone("outage.test");
        foreach (string d in new[] { "cached", "during", "after", "boot" })
            z.Mx($"mx.{d}.outage.test.", owner: d).A($"mx.{d}").Tlsa($"_25._tcp.mx.{d}", 3, 1, 1, Sha256);
        return w.StartAsync(ct);
    }

    /// <summary>Asks until the answer is dane-only, failing on any weaker answer; returns how long it took.</summary>
    private static async Task<(TimeSpan Took, int Asked)> AskUntilDaneOnlyAsync(SocketmapClient client, string domain, TimeSpan limit,
        CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        for (var asked = 1; ; asked++)
        {
            string answer = await client.QueryAsync("QUERY", domain, ct);
            Assert.True(answer.StartsWith("TEMP", StringComparison.Ordinal) || answer == "OK dane-only",
                $"{domain}: '{answer}' is weaker than dane-only (after {sw.Elapsed.TotalSeconds:0.0} s)");
            if (answer == "OK dane-only")
                return (sw.Elapsed, asked);
            Assert.True(sw.Elapsed < limit, $"{domain} still TEMP after {limit.TotalSeconds} s");
            await Task.Delay(100, ct);
        }
    }

    private static async Task AssertNeverWeakerAsync(SocketmapClient client, string domain, TimeSpan during, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < during)
        {
            string answer = await client.QueryAsync("QUERY", domain, ct);
            Assert.Contains(Allowed, a => answer.StartsWith(a, StringComparison.Ordinal));
            await Task.Delay(200, ct);
        }
    }

    [Fact]
    public async Task An_outage_spanning_the_self_test_never_weakens_a_dane_only_answer_and_recovery_is_immediate()
    {
        await using var world = await StartWorldAsync(_ct);
        using var dir = new TempDir("outage");
        await using var daemon = await DaemonProcess.StartAsync(world.ResolverEndpoint, new Dictionary<string, string>(),
            dir.File("cache.db"), Yaml, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.Equal("OK dane-only", await client.QueryAsync("QUERY", "cached.outage.test", _ct));

        await world.StopResolverAsync();
        // Longer than the 5 s retry of the failing self-test: the outage spans at least one run.
        await AssertNeverWeakerAsync(client, "during.outage.test", TimeSpan.FromSeconds(7), _ct);
        Assert.True(await daemon.WaitForOutputAsync("Resolver self-test FAILED", TimeSpan.FromSeconds(15)), daemon.Output);
        // The verdict cached before the outage still answers.
        Assert.Equal("OK dane-only", await client.QueryAsync("QUERY", "cached.outage.test", _ct));

        await world.StartResolverAsync(_ct);
        // Re-tested by the lookups themselves: well before the next 5-minute self-test.
        var (took, _) = await AskUntilDaneOnlyAsync(client, "during.outage.test", TimeSpan.FromSeconds(15), _ct);
        Assert.True(took < TimeSpan.FromSeconds(10), $"dane-only only after {took.TotalSeconds:0.0} s");
        Assert.Equal("OK dane-only", await client.QueryAsync("QUERY", "after.outage.test", _ct));
        Assert.True(await daemon.WaitForOutputAsync("Resolver self-test passed"), daemon.Output);

        // Nothing computed during the outage was cached: a second outage still answers from the good verdicts.
        await world.StopResolverAsync();
        foreach (string d in new[] { "cached", "during", "after" })
            Assert.Equal("OK dane-only", await client.QueryAsync("QUERY", $"{d}.outage.test", _ct));
    }

    [Fact]
    public async Task A_daemon_started_before_its_resolver_answers_TEMP_then_dane_only_never_dane()
    {
        await using var world = await StartWorldAsync(_ct);
        await world.StopResolverAsync();
        using var dir = new TempDir("outage-boot");
        await using var daemon = await DaemonProcess.StartAsync(world.ResolverEndpoint, new Dictionary<string, string>(),
            dir.File("cache.db"), Yaml, _ct);
        Assert.True(await daemon.WaitForOutputAsync("Resolver self-test FAILED", TimeSpan.FromSeconds(15)), daemon.Output);
        await using var client = await daemon.ConnectAsync(_ct);
        await AssertNeverWeakerAsync(client, "boot.outage.test", TimeSpan.FromSeconds(2), _ct);
        Assert.StartsWith("TEMP", await client.QueryAsync("QUERY", "boot.outage.test", _ct));

        await world.StartResolverAsync(_ct);
        var (took, _) = await AskUntilDaneOnlyAsync(client, "boot.outage.test", TimeSpan.FromSeconds(15), _ct);
        Assert.True(took < TimeSpan.FromSeconds(10), $"dane-only only after {took.TotalSeconds:0.0} s");

        // Cached now, under a passing self-test: survives the resolver going away again.
        await world.StopResolverAsync();
        Assert.Equal("OK dane-only", await client.QueryAsync("QUERY", "boot.outage.test", _ct));
    }
}
