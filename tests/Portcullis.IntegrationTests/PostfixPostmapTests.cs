using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// Debian's Postfix reads every answer form from the running daemon through its own socketmap
/// client (`postmap -q KEY socketmap:inet:127.0.0.1:PORT:NAME`), and logs no warning for valid ones.
/// </summary>
[Collection(MtaStsWorld.Name)]
public sealed class PostfixPostmapTests(MtaStsWorldFixture world) : IDisposable
{
    private const string Z = MtaStsWorldFixture.Zone;
    private readonly PostfixHarness _postfix = new();
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private Task<(int ExitCode, string Stdout, string Stderr)> PostmapAsync(string key, string map) =>
        _postfix.PostmapQueryAsync(key, PostfixHarness.SocketmapInet(world.Daemon.Port, map), _ct);

    public static TheoryData<string, string, string> OkAnswers => new()
    {
        { "QUERY", $"good.{Z}", $"secure match=mail.good.{Z}:.backup.good.{Z} servername=hostname" },
        { "QUERYwithTLSRPT", $"split.{Z}",
            $"secure match=mail.split.{Z} servername=hostname policy_type=sts policy_domain=split.{Z} mx_host_pattern=mail.split.{Z} " +
            $"{{ policy_string = version: STSv1 }} {{ policy_string = mode: enforce }} {{ policy_string = mx: mail.split.{Z} }} " +
            "{ policy_string = max_age: 86400 }" },
        { "QUERYwithTLSRPT", $"nosts.{Z}", "dane policy_type=no-policy-found" },
        { "QUERY", $"[spf.{Z}]:25", $"secure match=mail.spf.{Z} servername=hostname" },
    };

    [Theory]
    [MemberData(nameof(OkAnswers))]
    public async Task Ok_answers_are_read_verbatim_without_warnings(string map, string key, string expected)
    {
        var (exit, stdout, stderr) = await PostmapAsync(key, map);
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected + "\n", stdout);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData($"nosts.{Z}")]
    [InlineData($"testing.{Z}")]
    [InlineData($".good.{Z}")]
    [InlineData("[192.0.2.1]")]
    public async Task Notfound_is_a_clean_miss(string key)
    {
        var (exit, stdout, stderr) = await PostmapAsync(key, "QUERY");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task Temp_is_reported_by_postfix_as_a_temporary_error()
    {
        var (exit, _, stderr) = await PostmapAsync($"big.{Z}", "QUERYwithTLSRPT");
        Assert.Equal(1, exit);
        Assert.Contains("temporary error: policy reply exceeds 100000 bytes", stderr);
    }

    [Fact]
    public async Task Unknown_map_name_is_a_permanent_error()
    {
        var (exit, _, stderr) = await PostmapAsync($"good.{Z}", "NOSUCHMAP");
        Assert.Equal(1, exit);
        Assert.Contains("permanent error: unknown map name NOSUCHMAP", stderr);
    }

    public void Dispose() => _postfix.Dispose();
}
