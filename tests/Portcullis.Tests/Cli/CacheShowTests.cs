using Portcullis.Cli;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Hosting.Control;
using Portcullis.Dns;
using Portcullis.Resolution;

namespace Portcullis.Tests.Cli;

/// <summary>
/// Regression: <c>cache show</c> once parsed <c>query</c>'s human-readable text ("verdict:", ", id ") to find the
/// live policy id. It now compares values from the <see cref="QueryReport"/> record, so rewording the text cannot break it.
/// </summary>
public sealed class CacheShowTests
{
    private static QueryReport Report(string? txtId) =>
        new(new Portcullis.Resolution.Resolution("example.com", new PolicyAnswer(Verdict.StsEnforce, "policy"), false)
        {
            Sts = new StsBranch(new PolicyAnswer(Verdict.StsEnforce, "policy"), false)
            {
                Txt = txtId is null ? new StsTxtResult(StsTxtStatus.NoRecord, null, null, "no record")
                    : new StsTxtResult(StsTxtStatus.Valid, txtId, $"v=STSv1; id={txtId};", "valid"),
            },
        }, "127.0.0.1:53", new ResolverHealth.Snapshot(true, ResolverTrust.Validating, "ok", DateTimeOffset.UnixEpoch), "secure", "secure");

    [Theory]
    [InlineData("20240101", "20240101", "Policy id:       unchanged (20240101)")]
    [InlineData("20240101", "20250101", "Policy id:       CHANGED: cached 20240101, DNS now says 20250101; the next lookup re-fetches the policy")]
    [InlineData("20240101", null, "Policy id:       cached 20240101; no valid TXT record now (the cached policy still applies until it expires)")]
    public void The_policy_id_is_compared_as_data(string cached, string? live, string line) =>
        Assert.Equal(line, CacheCommand.PolicyIdLine(cached, Report(live).LivePolicyId));

    [Fact]
    public void The_live_id_comes_from_the_txt_result_not_from_the_rendered_text()
    {
        var report = Report("abc123");
        Assert.Equal("abc123", report.LivePolicyId);
        var text = new StringWriter();
        report.WriteText(text);
        Assert.Contains("verdict:       Valid, id abc123: valid", text.ToString());
        Assert.Equal("abc123", (string?)report.ToJson()["txt"]!["id"]);
    }

    [Theory]
    [InlineData("show Example.COM.", "show", "example.com")]
    [InlineData("purge", "purge", null)]
    [InlineData("show [192.0.2.1]", "show", null)]
    [InlineData("list", "list", null)]
    public void Client_and_daemon_share_one_control_protocol(string line, string verb, string? domain) =>
        Assert.Equal((verb, domain), ControlProtocol.Parse(line));

    [Fact]
    public void The_client_commands_parse_back_on_the_daemon_side()
    {
        Assert.Equal((ControlProtocol.Show, "example.org"), ControlProtocol.Parse(ControlProtocol.ShowCommand("example.org")));
        Assert.Equal((ControlProtocol.Purge, "example.org"), ControlProtocol.Parse(ControlProtocol.PurgeCommand("example.org")));
        Assert.Equal((ControlProtocol.Purge, (string?)null), ControlProtocol.Parse(ControlProtocol.PurgeCommand(null)));
    }
}
