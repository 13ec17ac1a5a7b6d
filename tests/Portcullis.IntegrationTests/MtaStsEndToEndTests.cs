using System.Diagnostics;
using System.Text.Json;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// MTA-STS end to end: real nsd + validating unbound, real HTTPS policy hosts with a test CA,
/// the real daemon on a real socket. Each case asserts the exact Postfix answer.
/// </summary>
[Collection(MtaStsWorld.Name)]
public sealed class MtaStsEndToEndTests(MtaStsWorldFixture world)
{
    private const string Z = MtaStsWorldFixture.Zone;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private async Task<string> AskAsync(string key, string map = "QUERY")
    {
        await using var client = await world.Daemon.ConnectAsync(_ct);
        return await client.QueryAsync(map, key, _ct);
    }

    private static string Secure(string name) => $"OK secure match=mail.{name}.{Z} servername=hostname";

    [Theory]
    [InlineData("split")]      // TXT strings of one record are joined
    [InlineData("spf")]        // a non-STS TXT record beside it is ignored
    [InlineData("crlf")]       // CRLF line endings
    [InlineData("charset")]    // Content-Type parameters and case ignored
    [InlineData("exact")]      // 65,536 bytes is within the limit
    [InlineData("chunkedok")]  // chunked body without Content-Length
    [InlineData("cname")]      // _mta-sts CNAME to a provider; policy still from mta-sts.cname
    public async Task Valid_enforce_policies_give_secure(string name) =>
        Assert.Equal(Secure(name), await AskAsync($"{name}.{Z}"));

    [Fact]
    public async Task Enforce_policy_renders_wildcards_for_match_and_keeps_them_for_tlsrpt()
    {
        Assert.Equal($"OK secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname", await AskAsync($"good.{Z}"));
        Assert.Equal(
            $"OK secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname policy_type=sts policy_domain=good.{Z} " +
            $"mx_host_pattern=mail.good.{Z} mx_host_pattern=*.backup.good.{Z} {{ policy_string = version: STSv1 }} " +
            $"{{ policy_string = mode: enforce }} {{ policy_string = mx: mail.good.{Z} }} " +
            $"{{ policy_string = mx: *.backup.good.{Z} }} {{ policy_string = max_age: 86400 }}",
            await AskAsync($"good.{Z}", "QUERYwithTLSRPT"));
    }

    [Fact]
    public async Task Keys_are_normalised_and_bracketed_next_hops_get_the_host_policy()
    {
        Assert.Equal($"OK secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname", await AskAsync("GOOD.Mta.Test."));
        Assert.Equal(Secure("split"), await AskAsync($"[split.{Z}]:587"));
        Assert.Equal(Secure("xn--bcher-kva"), await AskAsync($"bücher.{Z}"));
    }

    [Theory]
    [InlineData("testing", "mode testing is not enforced by default")]
    [InlineData("none", "mode none")]
    [InlineData("twosts", "two v=STSv1 records")]
    [InlineData("badid", "id with a hyphen")]
    [InlineData("nosts", "no TXT record")]
    [InlineData("nohost", "policy host does not resolve")]
    [InlineData("notfound", "HTTP 404")]
    [InlineData("error500", "HTTP 500")]
    [InlineData("redirect", "301 is never followed")]
    [InlineData("html", "text/html")]
    [InlineData("notype", "no Content-Type")]
    [InlineData("over", "65,537-byte body")]
    [InlineData("chunkedover", "65,537-byte chunked body")]
    [InlineData("bigdeclared", "Content-Length over 64 KiB")]
    [InlineData("selfsigned", "self-signed certificate")]
    [InlineData("wrongname", "certificate for another name")]
    [InlineData("expired", "expired certificate")]
    [InlineData("ipmx", "IP address as mx")]
    [InlineData("spacecolon", "space before the colon")]
    public async Task No_valid_policy_gives_notfound(string name, string why)
    {
        Assert.True("NOTFOUND " == await AskAsync($"{name}.{Z}"), why);
        Assert.Equal("OK dane policy_type=no-policy-found", await AskAsync($"{name}.{Z}", "QUERYwithTLSRPT"));
    }

    [Fact]
    public async Task Redirect_target_is_never_requested()
    {
        Assert.Equal("NOTFOUND ", await AskAsync($"redirect.{Z}"));
        Assert.True(world.Host.WasRequested($"mta-sts.redirect.{Z}"));
        Assert.False(world.Host.WasRequested($"mta-sts.target.{Z}"));
    }

    [Fact]
    public async Task A_redirect_loop_costs_exactly_one_request()
    {
        Assert.Equal("NOTFOUND ", await AskAsync($"loop.{Z}"));
        Assert.Single(world.Host.RequestsFor($"mta-sts.loop.{Z}"));
    }

    [Fact]
    public async Task No_http_caching_headers_are_sent()
    {
        Assert.StartsWith("OK secure", await AskAsync($"good.{Z}"));
        var requests = world.Host.RequestsFor($"mta-sts.good.{Z}");
        Assert.NotEmpty(requests);
        foreach (var r in requests)
        {
            Assert.Equal("/.well-known/mta-sts.txt", r.Target);
            Assert.Equal($"mta-sts.good.{Z}", r.Sni);
            Assert.Null(r.Header("If-None-Match"));
            Assert.Null(r.Header("If-Modified-Since"));
        }
    }

    [Theory]
    [InlineData("endless")]
    [InlineData("drip")]
    [InlineData("stall")]
    [InlineData("tlsstall")]
    [InlineData("http10")]
    public async Task Hostile_hosts_end_within_the_fetch_timeout_with_no_policy(string name)
    {
        var sw = Stopwatch.StartNew();
        Assert.Equal("NOTFOUND ", await AskAsync($"{name}.{Z}"));
        // fetch_timeout_ms is 3000; DNS and process overheads stay far below the rest.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task Braces_in_a_policy_line_are_never_copied_into_the_answer()
    {
        string answer = await AskAsync($"braces.{Z}", "QUERYwithTLSRPT");
        Assert.StartsWith($"OK secure match=mail.braces.{Z} servername=hostname policy_type=sts", answer);
        Assert.DoesNotContain("x-note", answer);
        Assert.DoesNotContain("validation-failure", answer);
    }

    [Fact]
    public async Task A_reply_over_100000_bytes_becomes_temp_while_the_smaller_form_is_sent()
    {
        string plain = await AskAsync($"big.{Z}");
        Assert.StartsWith($"OK secure match=mx0000.big.{Z}:mx0001.big.{Z}:", plain);
        Assert.EndsWith($"mx1999.big.{Z} servername=hostname", plain);
        Assert.Equal("TEMP policy reply exceeds 100000 bytes", await AskAsync($"big.{Z}", "QUERYwithTLSRPT"));
    }

    [Fact]
    public async Task Failed_fetches_are_retried_at_most_every_five_minutes()
    {
        for (int i = 0; i < 20; i++)
            Assert.Equal("NOTFOUND ", await AskAsync($"flaky.{Z}"));
        Assert.Single(world.Host.RequestsFor($"mta-sts.flaky.{Z}"));
    }

    [Fact]
    public async Task Concurrent_queries_share_one_resolution()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => AskAsync($"single.{Z}")));
        Assert.All(answers, a => Assert.Equal(Secure("single"), a));
        Assert.Single(world.Host.RequestsFor($"mta-sts.single.{Z}"));
    }

    [Fact]
    public async Task Cached_policy_survives_restart_and_kill_and_outlives_its_host()
    {
        await using var first = await world.StartDaemonAsync("persist.db");
        await using (var c = await first.ConnectAsync(_ct))
            Assert.Equal(Secure("persist"), await c.QueryAsync("QUERY", $"persist.{Z}", _ct));
        Assert.Equal(0, await first.StopAsync(_ct));

        // The policy host now fails: a valid cached policy must still be applied (RFC 8461 §5.1).
        world.Host.Set($"mta-sts.persist.{Z}", HostBehavior.Text(500, "gone\n"));
        await using var second = await world.StartDaemonAsync("persist.db");
        await using (var c = await second.ConnectAsync(_ct))
        {
            Assert.Equal(Secure("persist"), await c.QueryAsync("QUERY", $"persist.{Z}", _ct));
            Assert.Equal(Secure("killed"), await c.QueryAsync("QUERY", $"killed.{Z}", _ct));
        }
        // kill -9 right after the write: WAL keeps the committed entry.
        await second.KillHardAsync();
        world.Host.Set($"mta-sts.killed.{Z}", HostBehavior.Text(500, "gone\n"));

        await using var third = await world.StartDaemonAsync("persist.db");
        await using (var c = await third.ConnectAsync(_ct))
        {
            Assert.Equal(Secure("persist"), await c.QueryAsync("QUERY", $"persist.{Z}", _ct));
            Assert.Equal(Secure("killed"), await c.QueryAsync("QUERY", $"killed.{Z}", _ct));
        }
        Assert.Single(world.Host.RequestsFor($"mta-sts.persist.{Z}"));
        Assert.Single(world.Host.RequestsFor($"mta-sts.killed.{Z}"));
    }

    [Fact]
    public async Task Kill_9_in_the_middle_of_a_burst_of_writes_keeps_the_cache_usable_and_no_answer_weaker()
    {
        string db = Path.Combine(world.Dir, "burst.db");
        await using (var daemon = await world.StartDaemonAsync("burst.db"))
        {
            await using (var c = await daemon.ConnectAsync(_ct))
                Assert.Equal(Secure("burst"), await c.QueryAsync("QUERY", $"burst.{Z}", _ct));
            // 16 clients resolving new domains: every answer is a cache write. Kill -9 while they run.
            using var stop = new CancellationTokenSource();
            int answered = 0;
            var load = Enumerable.Range(0, 16).Select(async n =>
            {
                await using var c = await daemon.ConnectAsync(_ct);
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        await c.QueryAsync("QUERY", $"w{n}-{i}.burst-nx.{Z}", stop.Token);
                        Interlocked.Increment(ref answered);
                    }
                    catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
                    {
                        return;
                    }
                }
            }).ToList();
            while (Volatile.Read(ref answered) < 200)
                await Task.Delay(20, _ct);
            await daemon.KillHardAsync();
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }
        // The policy host is gone now: only the cache can give the secure answer.
        world.Host.Set($"mta-sts.burst.{Z}", HostBehavior.Text(500, "gone\n"));
        await using (var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            await check.OpenAsync(_ct);
            using var cmd = check.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string?)await cmd.ExecuteScalarAsync(_ct));
        }
        await using var restarted = await world.StartDaemonAsync("burst.db");
        await using (var c = await restarted.ConnectAsync(_ct))
            Assert.Equal(Secure("burst"), await c.QueryAsync("QUERY", $"burst.{Z}", _ct));
        Assert.DoesNotContain("corrupt", restarted.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Single(world.Host.RequestsFor($"mta-sts.burst.{Z}"));
    }

    [Fact]
    public async Task Report_policy_failures_is_accepted_but_ignored_with_one_warning()
    {
        await using var daemon = await world.StartDaemonAsync("failures.db",
            "tlsrpt:\n  no_policy_level: may\n  report_policy_failures: true\n");
        await using var c = await daemon.ConnectAsync(_ct);
        // Postfix 3.10 reports policy_failure answers wrongly (README): failed fetches get the no-policy answer.
        Assert.Equal("OK may policy_type=no-policy-found", await c.QueryAsync("QUERYwithTLSRPT", $"selfsigned.{Z}", _ct));
        Assert.Equal("OK may policy_type=no-policy-found", await c.QueryAsync("QUERYwithTLSRPT", $"notfound.{Z}", _ct));
        Assert.Equal("OK may policy_type=no-policy-found", await c.QueryAsync("QUERYwithTLSRPT", $"ipmx.{Z}", _ct));
        Assert.Equal("OK may policy_type=no-policy-found", await c.QueryAsync("QUERYwithTLSRPT", $"nosts.{Z}", _ct));
        Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"selfsigned.{Z}", _ct));
        string warning = "tlsrpt.report_policy_failures is ignored";
        Assert.True(await daemon.WaitForOutputAsync(warning), daemon.Output);
        Assert.Single(daemon.Output.Split('\n'), l => l.Contains(warning, StringComparison.Ordinal));
        Assert.DoesNotContain("policy_failure=", daemon.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_named_map_can_enforce_testing_policies()
    {
        await using var daemon = await world.StartDaemonAsync("maps.db",
            "maps:\n  STRICT: { enforce_testing: true }\n  STRICTRPT: { enforce_testing: true, tlsrpt: true }\n");
        await using var c = await daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await c.QueryAsync("QUERY", $"testing.{Z}", _ct));
        Assert.Equal(Secure("testing"), await c.QueryAsync("STRICT", $"testing.{Z}", _ct));
        Assert.StartsWith(Secure("testing") + $" policy_type=sts policy_domain=testing.{Z}", await c.QueryAsync("STRICTRPT", $"testing.{Z}", _ct));
        Assert.Equal("NOTFOUND ", await c.QueryAsync("STRICT", $"none.{Z}", _ct));
        Assert.StartsWith("PERM unknown map name OTHER; use QUERY or QUERYwithTLSRPT or STRICT", await c.QueryAsync("OTHER", $"testing.{Z}", _ct));
    }

    [Fact]
    public async Task Query_command_explains_the_decision_as_json()
    {
        var (exit, stdout, stderr) = await DaemonProcess.RunQueryAsync(world.Dns.ResolverEndpoint, world.Ca.ChildEnvironment,
            [$"good.{Z}", "--json"], _ct);
        Assert.True(exit == 0, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("StsEnforce", root.GetProperty("verdict").GetString());
        Assert.Equal("v=STSv1; id=20240101", root.GetProperty("txt").GetProperty("record").GetString());
        Assert.Equal(200, root.GetProperty("fetch").GetProperty("status").GetInt32());
        Assert.Equal("enforce", root.GetProperty("policy").GetProperty("mode").GetString());
        Assert.Equal($"OK secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname",
            root.GetProperty("postfix_query").GetString());
    }

    [Theory]
    [InlineData("selfsigned", "sts-webpki-invalid")]
    [InlineData("notfound", "sts-policy-fetch-error")]
    [InlineData("html", "sts-policy-invalid")]
    public async Task Query_command_names_the_failure_and_exits_1(string name, string failure)
    {
        var (exit, stdout, stderr) = await DaemonProcess.RunQueryAsync(world.Dns.ResolverEndpoint, world.Ca.ChildEnvironment,
            [$"{name}.{Z}", "--json"], _ct);
        Assert.True(exit == 1, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(failure, doc.RootElement.GetProperty("fetch").GetProperty("failure").GetString());
        Assert.Equal("NOTFOUND ", doc.RootElement.GetProperty("postfix_query").GetString());
    }

    [Fact]
    public async Task By_default_policy_hosts_on_non_public_addresses_are_refused()
    {
        var (exit, stdout, stderr) = await DaemonProcess.RunQueryAsync(world.Dns.ResolverEndpoint, world.Ca.ChildEnvironment,
            [$"good.{Z}", "--json"], _ct, allowPrivate: false);
        Assert.True(exit == 1, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Contains("resolves only to non-public addresses", doc.RootElement.GetProperty("fetch").GetProperty("detail").GetString());
        Assert.Equal("NOTFOUND ", doc.RootElement.GetProperty("postfix_query").GetString());
    }

    [Fact]
    public async Task Query_command_text_output_shows_the_evidence()
    {
        var (exit, stdout, _) = await DaemonProcess.RunQueryAsync(world.Dns.ResolverEndpoint, world.Ca.ChildEnvironment,
            [$"nosts.{Z}"], _ct);
        Assert.Equal(1, exit);
        Assert.Contains("Decision:        NoPolicy", stdout);
        Assert.Contains("Policy fetch:    not attempted", stdout);
        Assert.Contains("Postfix answer:  NOTFOUND ", stdout);
    }
}
