using System.Text.Json;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// Runs the delivery scene (tests/Portcullis.DeliveryScene) in a fresh network namespace whose
/// resolv.conf points at the scene's validating unbound on 127.0.0.1:53, so Debian's Postfix —
/// smtp_dns_support_level = dnssec, smtp_tls_security_level = dane, smtp_tls_policy_maps =
/// Portcullis — really delivers to STARTTLS sinks. Assertions come from Postfix's own log.
/// </summary>
public sealed class DeliveryFixture : IAsyncLifetime
{
    public Dictionary<string, JsonElement> Results { get; } = [];
    public string PostfixLog { get; private set; } = "";
    private SceneNamespace? _ns;

    public async Task InitializeAsync()
    {
        _ns = await SceneNamespace.CreateAsync("portcullis");
        var scene = await _ns.RunSceneAsync("delivery scene", [], TimeSpan.FromMinutes(4));
        foreach (var r in scene.GetProperty("results").EnumerateArray())
            Results[r.GetProperty("domain").GetString()!] = r;
        PostfixLog = scene.GetProperty("postfix_log").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_ns is not null)
            await _ns.DisposeAsync();
    }
}

public sealed class DeliveryTests(DeliveryFixture scene) : IClassFixture<DeliveryFixture>
{
    [Theory]
    [InlineData("good.sts.test", "OK secure match=mx.good.sts.test servername=hostname")]
    [InlineData("good.dane.test", "OK dane-only")]
    public void Matching_certificates_deliver_over_verified_tls(string domain, string portcullis)
    {
        var r = scene.Results[domain];
        Assert.Equal(portcullis, r.GetProperty("portcullis").GetString());
        Assert.StartsWith("sent ", r.GetProperty("status").GetString());
        Assert.True(r.GetProperty("verified").GetBoolean(), $"no 'Verified TLS connection established' for {domain}:\n{scene.PostfixLog}");
        Assert.Equal(1, r.GetProperty("sink_messages").GetInt32());
        Assert.Equal(0, r.GetProperty("sink_plaintext_messages").GetInt32());
    }

    [Theory]
    [InlineData("badcert.sts.test", "OK secure match=mx.badcert.sts.test servername=hostname")] // certificate for another name
    [InlineData("mismatch.sts.test", "OK secure match=mx.mismatch.sts.test servername=hostname")] // MX not in the policy
    [InlineData("bad.dane.test", "OK dane-only")]                                                  // TLSA of another key
    public void Mismatching_certificates_are_deferred_never_sent_in_the_clear(string domain, string portcullis)
    {
        var r = scene.Results[domain];
        Assert.Equal(portcullis, r.GetProperty("portcullis").GetString());
        Assert.StartsWith("deferred ", r.GetProperty("status").GetString());
        Assert.False(r.GetProperty("verified").GetBoolean());
        Assert.Equal(0, r.GetProperty("sink_messages").GetInt32());
        Assert.Contains("(Server certificate not verified)", r.GetProperty("status").GetString());
        Assert.DoesNotContain(scene.PostfixLog.Split('\n'),
            l => l.Contains($"to=<user@{domain}>", StringComparison.Ordinal) && l.Contains("status=sent", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_policy_mail_flows_with_opportunistic_tls()
    {
        var r = scene.Results["plain.test"];
        Assert.Equal("NOTFOUND ", r.GetProperty("portcullis").GetString());
        Assert.StartsWith("sent ", r.GetProperty("status").GetString());
        Assert.Equal(1, r.GetProperty("sink_messages").GetInt32());
    }

    [Fact]
    public void Postfix_smtp_logged_no_warning_about_any_policy_answer()
    {
        Assert.Contains("postfix/smtp[", scene.PostfixLog);
        Assert.DoesNotContain(scene.PostfixLog.Split('\n'),
            l => l.Contains("postfix/smtp[", StringComparison.Ordinal) && l.Contains("warning:", StringComparison.Ordinal));
        Assert.DoesNotContain("smtp_tls_policy_maps", scene.PostfixLog);
    }
}
