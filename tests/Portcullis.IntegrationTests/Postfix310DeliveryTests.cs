using System.Diagnostics;
using System.Text.Json;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// Runs the Postfix 3.10 scene (tests/Portcullis.DeliveryScene/Postfix310Scene.cs): Debian trixie's Postfix
/// with libtlsrpt, from a debootstrapped root (built once, cached), chrooted inside a fresh network
/// namespace, delivering through QUERYwithTLSRPT with TLSRPT on. A root that cannot be built fails the test.
/// </summary>
public sealed class Postfix310Fixture : IAsyncLifetime
{
    public static readonly string[] Packages = ["postfix", "libtlsrpt0", "ca-certificates"];
    public JsonElement Scene { get; private set; }
    public Dictionary<string, JsonElement> Results { get; } = [];
    public string PostfixLog => Scene.GetProperty("postfix_log").GetString()!;
    public TimeSpan RootTime { get; private set; }
    public TimeSpan SceneTime { get; private set; }
    private SceneNamespace? _ns;

    public async Task InitializeAsync()
    {
        var sw = Stopwatch.StartNew();
        string root = await DebianRoot.EnsureAsync("trixie", Packages, new CancellationTokenSource(TimeSpan.FromMinutes(12)).Token);
        RootTime = sw.Elapsed;
        _ns = await SceneNamespace.CreateAsync("portcullis310");
        sw.Restart();
        Scene = await _ns.RunSceneAsync("Postfix 3.10 scene", ["--root", root], TimeSpan.FromMinutes(5));
        SceneTime = sw.Elapsed;
        foreach (var r in Scene.GetProperty("results").EnumerateArray())
            Results[r.GetProperty("domain").GetString()!] = r;
    }

    public async Task DisposeAsync()
    {
        if (_ns is not null)
            await _ns.DisposeAsync();
    }
}

public sealed class Postfix310DeliveryTests(Postfix310Fixture scene, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<Postfix310Fixture>
{
    // RFC 8460 §5.3 file name, §5.1 rules: RFC 5321 domains, unique-id = 1*(ALPHA / DIGIT).
    private const string Domain5321 = @"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*";
    private const string Rfc8460FileName = "^" + Domain5321 + "!" + Domain5321 + @"!\d+!\d+(?:![A-Za-z0-9]+)?\.json(?:\.gz)?$";

    private string PostfixLog => scene.PostfixLog;

    private JsonElement R(string domain) => scene.Results[domain];

    private static string Status(JsonElement r) => r.GetProperty("status").GetString()!;

    private static JsonElement Mx(JsonElement r, string host) => r.GetProperty("mx").EnumerateArray().Single(m => m.GetProperty("host").GetString() == host);

    private static string[] Tls(JsonElement mx) => [.. mx.GetProperty("tls").EnumerateArray().Select(t => t.GetString()!)];

    private JsonElement Report(string domain) =>
        scene.Scene.GetProperty("report_mails").EnumerateArray().Single(m => m.GetProperty("domain").GetString() == domain);

    [Fact]
    public void The_scene_runs_postfix_3_10_from_the_trixie_root()
    {
        output.WriteLine($"root ready in {scene.RootTime.TotalSeconds:F1} s, scene {scene.SceneTime.TotalSeconds:F1} s");
        Assert.StartsWith("3.10.", scene.Scene.GetProperty("postfix_version").GetString());
        Assert.True(File.Exists(Path.Combine(DebianRoot.CacheDirectory, "trixie-" + string.Join('-', Postfix310Fixture.Packages), ".portcullis-root-complete")));
    }

    [Theory]
    [InlineData("good.dane.test", "mx.good.dane.test", "OK dane-only", "Verified")]
    [InlineData("good.sts.test", "mx.good.sts.test", "OK secure match=mx.good.sts.test servername=hostname policy_type=sts policy_domain=good.sts.test mx_host_pattern=mx.good.sts.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx.good.sts.test } { policy_string = max_age: 86400 }", "Verified")]
    // No enforced policy: level dane, no TLSA, so Postfix does opportunistic TLS (certificate from the test CA: "Trusted").
    [InlineData("testing.sts.test", "mx.testing.sts.test", "OK dane policy_type=no-policy-found", "Trusted")]
    [InlineData("fetchfail.sts.test", "mx.fetchfail.sts.test", "OK dane policy_type=no-policy-found", "Trusted")]
    [InlineData("plain.test", "mx.plain.test", "OK dane policy_type=no-policy-found", "Untrusted")]
    public void Deliveries_through_queryWithTLSRPT_use_the_expected_tls(string domain, string mx, string answer, string tls)
    {
        var r = R(domain);
        Assert.Equal(answer, r.GetProperty("portcullis").GetString());
        Assert.StartsWith("sent ", Status(r));
        var m = Mx(r, mx);
        Assert.Equal([tls], Tls(m));
        Assert.Equal(1, m.GetProperty("sink_messages").GetInt32());
        Assert.Equal(1, m.GetProperty("sink_tls_messages").GetInt32());
        Assert.Contains(PostfixLog.Split('\n'), l => l.Contains($"TLSRPT: status=success, domain={domain}, receiving_mx={mx}[", StringComparison.Ordinal));
    }

    [Fact]
    public void A_certificate_mismatch_under_enforce_is_deferred_and_reported_as_failure()
    {
        var r = R("badcert.sts.test");
        Assert.StartsWith("OK secure match=mx.badcert.sts.test servername=hostname policy_type=sts", r.GetProperty("portcullis").GetString());
        Assert.Equal("deferred (Server certificate not verified)", Status(r));
        Assert.Equal(0, Mx(r, "mx.badcert.sts.test").GetProperty("sink_messages").GetInt32());
        Assert.Contains(PostfixLog.Split('\n'), l => l.Contains("TLSRPT: status=failure", StringComparison.Ordinal) && l.Contains("domain=badcert.sts.test", StringComparison.Ordinal));
    }

    [Fact]
    public void Sts_mx_patterns_with_queryWithTLSRPT_skip_an_mx_the_policy_does_not_allow()
    {
        // Postfix 3.10's default smtp_tls_enforce_sts_mx_patterns = yes; *.wild.sts.test matches one label only.
        var r = R("wild.sts.test");
        Assert.StartsWith("sent ", Status(r));
        Assert.Contains("warning: MX name 'a.b.wild.sts.test' does not match STS MX pattern for 'wild.sts.test'", PostfixLog);
        Assert.Equal(0, Mx(r, "a.b.wild.sts.test").GetProperty("sink_messages").GetInt32());
        Assert.Empty(Tls(Mx(r, "a.b.wild.sts.test"))); // never even connected
        Assert.Equal(1, Mx(r, "mx.wild.sts.test").GetProperty("sink_messages").GetInt32());
    }

    [Fact]
    public void Plain_query_has_no_patterns_and_postfix_delivers_to_an_mx_the_policy_does_not_allow()
    {
        // Without mx_host_pattern Postfix only has match=.wild2.sts.test, which matches any depth.
        var r = R("wild2.sts.test");
        Assert.Equal("OK secure match=.wild2.sts.test servername=hostname", r.GetProperty("portcullis").GetString());
        Assert.StartsWith("sent ", Status(r));
        Assert.Equal(1, Mx(r, "a.b.wild2.sts.test").GetProperty("sink_messages").GetInt32());
        Assert.Equal(["Verified"], Tls(Mx(r, "a.b.wild2.sts.test")));
        Assert.DoesNotContain("does not match STS MX pattern for 'wild2.sts.test'", PostfixLog);
    }

    [Fact]
    public void Every_tlsrpt_session_reaches_the_collect_socket_and_report_mails_cause_none()
    {
        // 7 sessions to next hops with _smtp._tls records (wild2 goes through a transport with TLSRPT off).
        static long Recorded(JsonElement e) => e.TryGetProperty("recorded", out var v) ? v.GetInt64() : 0;
        Assert.Equal(7, Recorded(scene.Scene.GetProperty("datagrams")));
        Assert.Equal(["recorded"], scene.Scene.GetProperty("datagrams_after_control").EnumerateObject().Select(p => p.Name)); // none invalid or dropped
        // The 7 report mails, through tlsrpt-out (smtp_tlsrpt_enable=no), to a domain that has a TLSRPT record: none.
        Assert.Equal(7, Recorded(scene.Scene.GetProperty("datagrams_after_reports")));
        Assert.Equal(7, PostfixLog.Split('\n').Count(l => l.Contains("postfix/tlsrpt-out/smtp[", StringComparison.Ordinal) && l.Contains("status=sent", StringComparison.Ordinal)));
        Assert.DoesNotContain(PostfixLog.Split('\n'), l => l.Contains("postfix/tlsrpt-out/", StringComparison.Ordinal) && l.Contains("TLSRPT:", StringComparison.Ordinal));
        // Control: an ordinary mail to that domain through the ordinary transport is reported.
        Assert.StartsWith("sent ", scene.Scene.GetProperty("control_status").GetString());
        Assert.Equal(8, Recorded(scene.Scene.GetProperty("datagrams_after_control")));
    }

    [Fact]
    public void Tlsrpt_send_mails_one_report_per_domain_with_rfc_8460_names()
    {
        Assert.Equal(0, scene.Scene.GetProperty("send_exit").GetInt32());
        Assert.Contains("7 report(s) generated, 7 delivered, 0 not delivered", scene.Scene.GetProperty("send").GetString());
        var mails = scene.Scene.GetProperty("report_mails").EnumerateArray().ToList();
        Assert.Equal(["badcert.sts.test", "fetchfail.sts.test", "good.dane.test", "good.sts.test", "plain.test", "testing.sts.test", "wild.sts.test"],
            mails.Select(m => m.GetProperty("domain").GetString()).Order(StringComparer.Ordinal));
        foreach (var m in mails)
        {
            string domain = m.GetProperty("domain").GetString()!;
            Assert.Equal("tlsrpt@reports.test", m.GetProperty("recipient").GetString());
            Assert.Equal("tlsrpt-noreply@sender.test", m.GetProperty("sender").GetString());
            Assert.True(m.GetProperty("over_tls").GetBoolean());
            Assert.Equal("mta.sender.test", m.GetProperty("submitter").GetString());
            string name = m.GetProperty("file_name").GetString()!;
            Assert.Matches(Rfc8460FileName, name); // RFC 8460 §5.1: unique-id is only ALPHA/DIGIT
            Assert.StartsWith($"mta.sender.test!{domain}!", name);
            var report = m.GetProperty("report");
            Assert.Equal("Sender Test Org", report.GetProperty("organization-name").GetString());
            Assert.Equal("mailto:postmaster@sender.test", report.GetProperty("contact-info").GetString());
            Assert.Matches(@"^\d{8}\.[0-9a-f]{12}@mta\.sender\.test$", report.GetProperty("report-id").GetString());
            Assert.Single(report.GetProperty("policies").EnumerateArray());
        }
    }

    [Theory]
    [InlineData("good.dane.test", "tlsa", "mx.good.dane.test", 1, 0)]   // Postfix names the TLSA base domain, no mx-host
    [InlineData("good.sts.test", "sts", "good.sts.test", 1, 0)]
    [InlineData("wild.sts.test", "sts", "wild.sts.test", 1, 0)]
    [InlineData("testing.sts.test", "no-policy-found", "testing.sts.test", 1, 0)] // testing: a Postfix 3.10 limitation
    [InlineData("fetchfail.sts.test", "no-policy-found", "fetchfail.sts.test", 1, 0)]
    [InlineData("plain.test", "no-policy-found", "plain.test", 1, 0)]
    [InlineData("badcert.sts.test", "sts", "badcert.sts.test", 0, 1)]
    public void Reports_carry_the_policy_postfix_applied_field_by_field(string domain, string type, string policyDomain, int ok, int failed)
    {
        var entry = Report(domain).GetProperty("report").GetProperty("policies")[0];
        var policy = entry.GetProperty("policy");
        Assert.Equal(type, policy.GetProperty("policy-type").GetString());
        Assert.Equal(policyDomain, policy.GetProperty("policy-domain").GetString());
        Assert.Equal(ok, entry.GetProperty("summary").GetProperty("total-successful-session-count").GetInt32());
        Assert.Equal(failed, entry.GetProperty("summary").GetProperty("total-failure-session-count").GetInt32());
        string[] Strings(string name) => policy.TryGetProperty(name, out var a) ? [.. a.EnumerateArray().Select(x => x.GetString()!)] : [];
        switch (type)
        {
            case "sts":
                string mx = domain == "wild.sts.test" ? "*.wild.sts.test" : "mx." + domain;
                Assert.Equal(["version: STSv1", "mode: enforce", $"mx: {mx}", "max_age: 86400"], Strings("policy-string"));
                Assert.Equal([mx], Strings("mx-host"));
                break;
            case "tlsa":
                Assert.Matches("^3 1 1 [0-9A-F]{64}$", Assert.Single(Strings("policy-string")));
                Assert.Empty(Strings("mx-host"));
                break;
            default:
                Assert.Empty(Strings("policy-string"));
                Assert.Empty(Strings("mx-host"));
                break;
        }
        if (failed == 0)
        {
            Assert.False(entry.TryGetProperty("failure-details", out _));
            return;
        }
        var f = Assert.Single(entry.GetProperty("failure-details").EnumerateArray());
        Assert.Equal("certificate-host-mismatch", f.GetProperty("result-type").GetString());
        Assert.Equal("127.0.0.1", f.GetProperty("sending-mta-ip").GetString());
        Assert.Equal("mx.badcert.sts.test", f.GetProperty("receiving-mx-hostname").GetString());
        Assert.Equal("127.0.1.4", f.GetProperty("receiving-ip").GetString());
        Assert.Equal(1, f.GetProperty("failed-session-count").GetInt32());
        // Postfix sends its whole multi-line EHLO reply as the helo.
        Assert.StartsWith("250-mx.badcert.sts.test\r\n250-STARTTLS", f.GetProperty("receiving-mx-helo").GetString());
    }

    [Fact]
    public void Reports_parse_back_through_tlsrpt_import()
    {
        var imports = scene.Scene.GetProperty("imports").EnumerateArray().Select(i => i.GetString()!).ToList();
        Assert.Equal(7, imports.Count);
        Assert.All(imports, i => Assert.Matches(@"^exit 0: .*: stored: report \d{8}\.[0-9a-f]{12}@mta\.sender\.test from Sender Test Org", i));
        var lines = scene.Scene.GetProperty("summary").GetString()!.Split('\n');
        Assert.Contains(lines, l => l.Contains("badcert.sts.test               sts                    0        1  certificate-host-mismatch 1 (127.0.0.1)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("mx.good.dane.test              tlsa                   1        0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("testing.sts.test               no-policy-found        1        0", StringComparison.Ordinal));
        Assert.Contains("7 row(s) since", scene.Scene.GetProperty("summary").GetString());
    }

    [Fact]
    public void Postfix_accepted_every_answer_without_a_policy_warning()
    {
        Assert.DoesNotContain("smtp_tls_policy_maps", PostfixLog);
        Assert.DoesNotContain("invalid attribute", PostfixLog);
        Assert.DoesNotContain("unexpected attribute", PostfixLog);
        Assert.DoesNotContain("panic", PostfixLog);
        Assert.DoesNotContain(PostfixLog.Split('\n'), l => l.Contains("warning:", StringComparison.Ordinal)
            && !l.Contains("does not match STS MX pattern", StringComparison.Ordinal));
    }
}
