using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>Configuration errors as the real binary prints them: every one, with file, line and key; exit 78.</summary>
public sealed class ConfigErrorTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"portcullis-cfgerr-{Guid.NewGuid():N}.yaml");
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args) =>
        DaemonProcess.RunCliAsync(new Dictionary<string, string>(), args, _ct);

    [Fact]
    public async Task Every_error_is_one_line_with_file_line_key_and_expectation_and_exit_78()
    {
        await File.WriteAllTextAsync(_file, "dns:\n  timeout_ms: abc\n  attempts: 99999999999\nrefresh:\n  enabled: maybe\nbogus: 1\n", _ct);
        var (exit, stdout, stderr) = await Run("check", "example.test", "--config", _file);
        Assert.Equal(78, exit);
        Assert.Equal("", stdout);
        Assert.Equal(
        [
            $"portcullis: configuration error: {_file}:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"abc\"",
            $"portcullis: configuration error: {_file}:3: dns.attempts: expected an integer from -2147483648 to 2147483647, got \"99999999999\"",
            $"portcullis: configuration error: {_file}:5: refresh.enabled: expected true or false, got \"maybe\"",
            $"portcullis: configuration error: {_file}:6: unknown key 'bogus'",
        ], stderr.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("System.", stderr);
    }

    [Fact]
    public async Task A_command_line_option_replaces_a_bad_file_value_before_validation()
    {
        await File.WriteAllTextAsync(_file, "dns:\n  server: \"not-an-address\"\n", _ct);
        var bad = await Run("check", "not a domain!", "--config", _file);
        Assert.Equal(78, bad.ExitCode);
        Assert.Contains($"{_file}:2: dns.server: 'not-an-address' is not HOST[:PORT]", bad.Stderr);

        // --dns fixes it: validation passes and the command reaches its own argument check (64).
        var fixedByDns = await Run("check", "not a domain!", "--config", _file, "--dns", "127.0.0.1:53");
        Assert.True(fixedByDns.ExitCode == 64, fixedByDns.Stderr);
        Assert.Equal("portcullis: 'not a domain!' is not a domain name\n", fixedByDns.Stderr);
    }

    public void Dispose() => File.Delete(_file);
}
