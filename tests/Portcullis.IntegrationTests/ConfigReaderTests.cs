using System.Net;
using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The schema-driven configuration reader (no reflection, AOT-safe) in the real binary: a realistic file
/// with every kind of section is bound and used, and wrong shapes are one line each, never a .NET type name.
/// </summary>
public sealed class ConfigReaderTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-cfgread-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private const string Realistic = """
        log_level: information
        dns:
          timeout_ms: 500
          attempts: 1
        limits: { max_connections: 50, idle_timeout: 30 }
        refresh:
          enabled: no
        overrides:
          smarthost.example.net: { policy: "encrypt protocols=>=TLSv1.2" }
          old.example: { policy: encrypt, expires: 2020-01-01 }
        maps:
          STRICT: { enforce_testing: true, tlsrpt: true }
        publish:
          listen: ["127.0.0.1:18443"]
          domains:
            example.com:
              mode: enforce
              mx: [mx1.example.com, "*.mx.example.net"]
              max_age: 0x93A80
              tlsrpt_rua: "mailto:tlsrpt@example.com"
              policy_host_target: web.example.com
        """;

    [Fact]
    public async Task A_realistic_file_is_bound_and_served()
    {
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), Realistic, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        // The resolver answers nothing: these come from the overrides, on the built-in and the configured map.
        Assert.Equal("OK encrypt protocols=>=TLSv1.2", await client.QueryAsync("QUERY", "smarthost.example.net", _ct));
        Assert.Equal("OK encrypt protocols=>=TLSv1.2", await client.QueryAsync("STRICT", "smarthost.example.net", _ct));
        Assert.StartsWith("PERM", await client.QueryAsync("NOSUCHMAP", "smarthost.example.net", _ct));
        Assert.DoesNotContain("configuration error", daemon.Output);

        string cfg = Path.Combine(_dir, "realistic.yaml");
        await File.WriteAllTextAsync(cfg, Realistic, _ct);
        var records = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["records", "example.com", "--config", cfg], _ct);
        Assert.True(records.ExitCode == 0, records.Stderr);
        Assert.Contains("mode enforce, 2 mx pattern(s), max_age 604800", records.Stdout); // 0x93A80, read as YAML 1.1 hex
        Assert.Contains("mta-sts.example.com.\t3600\tIN\tCNAME\tweb.example.com.", records.Stdout);
        Assert.Contains("\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\"", records.Stdout);
    }

    [Theory]
    [InlineData("dns: 5\n", "{0}:1: dns: expected a mapping (key: value lines), got \"5\"")]
    [InlineData("overrides:\n  a.example: [encrypt]\n", "{0}:2: overrides.a.example: expected a mapping (key: value lines), got a list")]
    [InlineData("listen: {a: b}\n", "{0}:1: listen: expected a list, got a mapping")]
    [InlineData("hello\n", "{0}:1: expected a mapping (key: value lines), got \"hello\"")]
    [InlineData("a: 1\n---\nb: 2\n", "{0}:3: a second YAML document (after '---') is not supported; put all keys in one")]
    public async Task A_wrong_shape_is_one_line_with_file_line_and_key_and_exit_78(string yaml, string expected)
    {
        string cfg = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(cfg, yaml, _ct);
        var (exit, stdout, stderr) = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["serve", "--config", cfg], _ct);
        Assert.Equal(78, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"portcullis: configuration error: {string.Format(null, expected, cfg)}\n", stderr);
    }

    [Fact]
    public async Task Empty_sections_and_values_mean_the_defaults_instead_of_a_crash()
    {
        // Formerly a NullReferenceException with a stack trace.
        const string yaml = "dns:\noverrides:\nmaps:\ncache:\n  path:\n";
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), yaml, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", "[192.0.2.1]", _ct));
        Assert.DoesNotContain("Exception", daemon.Output);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
