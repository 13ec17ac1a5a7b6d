using Portcullis.Configuration;

namespace Portcullis.Tests.Configuration;

/// <summary>Config errors name file, line and key, say what was expected, and all come at once.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"portcullis-config-{Guid.NewGuid():N}.yaml");

    private IReadOnlyList<string> Errors(string yaml, Action<PortcullisConfig>? overrides = null)
    {
        File.WriteAllText(_file, yaml);
        var ex = Assert.Throws<ConfigException>(() =>
        {
            var c = ConfigLoader.Read(_file);
            ConfigLoader.Override(c, overrides ?? (_ => { }));
            ConfigLoader.Validate(c);
        });
        return [.. ex.Errors.Select(e => e.Replace(_file, "FILE", StringComparison.Ordinal))];
    }

    [Theory]
    [InlineData("dns:\n  timeout_ms: abc\n", "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"abc\"")]
    [InlineData("dns:\n  attempts: 99999999999\n", "FILE:2: dns.attempts: expected an integer from -2147483648 to 2147483647, got \"99999999999\"")]
    [InlineData("publish:\n  domains:\n    example.com:\n      max_age: 1e400\n",
        "FILE:4: publish.domains.example.com.max_age: expected an integer from -9223372036854775808 to 9223372036854775807, got \"1e400\"")]
    [InlineData("refresh:\n  enabled: maybe\n", "FILE:2: refresh.enabled: expected true or false, got \"maybe\"")]
    [InlineData("overrides:\n  a.example: { policy: encrypt, expires: soon }\n",
        "FILE:2: overrides.a.example.expires: expected a date (YYYY-MM-DD) or an ISO 8601 date and time, got \"soon\"")]
    [InlineData("limits:\n  idle_timeout: [1, 2]\n", "FILE:2: limits.idle_timeout: expected an integer from -2147483648 to 2147483647, got a list")]
    [InlineData("listen: 127.0.0.1:25\n", "FILE:1: listen: expected a list, got \"127.0.0.1:25\"")]
    [InlineData("mta_sts:\n  nope: 1\n", "FILE:2: unknown key 'mta_sts.nope'")]
    [InlineData("bogus: 1\n", "FILE:1: unknown key 'bogus'")]
    [InlineData("dns:\n  server: notanip\n", "FILE:2: dns.server: 'notanip' is not HOST[:PORT] with an IP address")]
    [InlineData("cache:\n  type: mongo\n", "FILE:2: cache.type: 'mongo' is not sqlite, redis or postgres")]
    public void Each_rule_names_line_key_and_expectation(string yaml, string expected) =>
        Assert.Equal(expected, Errors(yaml)[0]); // (a policy without mx lines is a second error for max_age)

    [Fact]
    public void All_errors_are_reported_at_once_and_a_bad_value_is_not_reported_twice()
    {
        var errors = Errors("dns:\n  timeout_ms: x\n  server: bad\nbogus: 1\nlimits:\n  max_connections: -5\nlisten: [\"nonsense\"]\n");
        Assert.Equal(
        [
            "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"x\"",
            "FILE:4: unknown key 'bogus'",
            "FILE:7: listen: 'nonsense' is not HOST:PORT (IP address) or unix:/path",
            "FILE:3: dns.server: 'bad' is not HOST[:PORT] with an IP address",
            "FILE:6: limits.max_connections: must be a positive number, not -5",
        ], errors);
        Assert.DoesNotContain(errors, e => e.Contains("dns.timeout_ms: must be", StringComparison.Ordinal)); // the placeholder is not judged
    }

    [Fact]
    public void Command_line_overrides_replace_bad_file_values_before_validation()
    {
        File.WriteAllText(_file, "dns:\n  server: bad\nlisten: [\"nonsense\"]\n");
        var c = ConfigLoader.Read(_file);
        ConfigLoader.Override(c, x =>
        {
            x.Dns.Server = "127.0.0.1:53";
            x.Listen = ["127.0.0.1:8642"];
        });
        Assert.Equal("127.0.0.1:53", ConfigLoader.Validate(c).Dns.Server);

        // A bad override is the command line's fault: no file line is blamed for it.
        var errors = Errors("dns:\n  server: \"127.0.0.1\"\n", x => x.Dns.Server = "also-bad");
        Assert.Equal(["dns.server: 'also-bad' is not HOST[:PORT] with an IP address"], errors);
    }

    private const string Domain = "publish:\n  domains:\n    example.com:\n      mx: [mx.example.com]\n";

    [Theory]
    [InlineData("      max_age_steps: [86400, 3600]\n", "FILE:5: publish.domains.example.com.max_age_steps: each step must be larger than the one before, from 1 to 31557600")]
    [InlineData("      max_age_steps: [86400, 31557601]\n", "FILE:5: publish.domains.example.com.max_age_steps: each step must be larger than the one before, from 1 to 31557600")]
    [InlineData("      max_age_steps: [1d]\n", "FILE:5: publish.domains.example.com.max_age_steps: expected a list of integers, got a list")]
    [InlineData("      dns_update: { server: ns1.example.com }\n", "FILE:5: publish.domains.example.com.dns_update.server: 'ns1.example.com' is not HOST[:PORT] with an IP address")]
    [InlineData("      dns_update:\n        verify: [\"127.0.0.1:x\"]\n", "FILE:6: publish.domains.example.com.dns_update.verify: '127.0.0.1:x' is not HOST[:PORT] with an IP address")]
    [InlineData("      dns_update:\n        zone: other.example\n", "FILE:6: publish.domains.example.com.dns_update.zone: 'other.example' does not contain _mta-sts.example.com")]
    [InlineData("      dns_update:\n        tsig_key_file: tsig.key\n", "FILE:6: publish.domains.example.com.dns_update.tsig_key_file: 'tsig.key' must be an absolute path")]
    [InlineData("      dns_update:\n        ttl: 5\n", "FILE:6: publish.domains.example.com.dns_update.ttl: between 60 and 86400")]
    [InlineData("      dns_update:\n        timeout_ms: 0\n", "FILE:6: publish.domains.example.com.dns_update.timeout_ms: between 100 and 60000")]
    [InlineData("      dns_update:\n        verify_timeout: 0\n", "FILE:6: publish.domains.example.com.dns_update.verify_timeout: between 1 and 86400")]
    [InlineData("  readiness:\n    min_days: 31\n", "FILE:6: publish.readiness.min_days: between 0 and window_days")]
    [InlineData("  readiness:\n    window_days: 0\n    min_days: 0\n", "FILE:6: publish.readiness.window_days: between 1 and 400")]
    [InlineData("  readiness:\n    max_failure_percent: 101\n", "FILE:6: publish.readiness.max_failure_percent: between 0 and 100")]
    [InlineData("  readiness:\n    max_failure_percent: lots\n", "FILE:6: publish.readiness.max_failure_percent: expected a number, got \"lots\"")]
    [InlineData("  readiness:\n    min_sessions: -1\n", "FILE:6: publish.readiness.min_sessions: must not be negative")]
    public void Rollout_keys_are_checked(string yaml, string expected) => Assert.Equal([expected], Errors(Domain + yaml));

    [Fact]
    public void Defaults_and_a_good_file_are_valid()
    {
        Assert.NotNull(ConfigLoader.Load(null));
        File.WriteAllText(_file, "dns:\n  server: \"127.0.0.1:53\"\n  timeout_ms: 500\nrefresh:\n  enabled: false\n");
        var c = ConfigLoader.Load(_file);
        Assert.Equal(500, c.Dns.TimeoutMs);
        Assert.False(c.Refresh.Enabled);
    }

    public void Dispose() => File.Delete(_file);
}
