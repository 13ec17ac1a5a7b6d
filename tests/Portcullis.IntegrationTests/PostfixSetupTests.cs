using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>`portcullis postfix-setup` against the host's Postfix 3.7 and the trixie root's Postfix 3.10 (real postconf).</summary>
public sealed class PostfixSetupTests
{
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(12)).Token;
    private static readonly Dictionary<string, string> NoEnv = [];

    private Task<(int ExitCode, string Stdout, string Stderr)> Setup(params string[] args) =>
        DaemonProcess.RunCliAsync(NoEnv, ["postfix-setup", .. args], _ct);

    [Fact]
    public async Task Postfix_3_7_gets_query_without_tlsrpt_and_apply_writes_main_cf()
    {
        using var pf = new PostfixHarness();
        var show = await Setup("--config-directory", pf.ConfigDirectory);
        Assert.True(show.ExitCode == 0, show.Stdout + show.Stderr);
        Assert.Contains("smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY\n", show.Stdout);
        Assert.Contains("has no TLSRPT support", show.Stdout);
        Assert.DoesNotContain("tlsrpt-out", show.Stdout);
        var apply = await Setup("--config-directory", pf.ConfigDirectory, "--apply");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        var (_, now, _) = await pf.PostconfAsync(["-h", "smtp_tls_policy_maps", "smtp_dns_support_level", "smtp_tls_security_level"], _ct);
        Assert.Equal("socketmap:inet:127.0.0.1:8642:QUERY\ndnssec\ndane\n", now);
        Assert.Contains("nothing to change", (await Setup("--config-directory", pf.ConfigDirectory)).Stdout);
    }

    [Fact]
    public async Task Postfix_3_10_gets_queryWithTLSRPT_the_chroot_socket_and_the_report_transport()
    {
        string cached = await DebianRoot.EnsureAsync("trixie", Postfix310Fixture.Packages, _ct);
        await using var root = await DebianRoot.OverlayAsync(cached, _ct);
        using var dir = new TempDir("postfix-setup");
        string postconf = dir.File("postconf");
        await File.WriteAllTextAsync(postconf, $"#!/bin/sh\nexec chroot {root.Path} postconf \"$@\"\n", _ct);
        File.SetUnixFileMode(postconf, (UnixFileMode)0b111_101_101);
        var show = await Setup("--postconf", postconf, "--mail-from", "tlsrpt-noreply@sender.test");
        Assert.True(show.ExitCode == 0, show.Stdout + show.Stderr);
        Assert.StartsWith("Postfix 3.10.", show.Stdout);
        Assert.Contains("smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT", show.Stdout);
        Assert.Contains("smtp_tlsrpt_socket_name = tlsrpt/tlsrpt.sock", show.Stdout);
        Assert.Contains("tlsrpt.collect_socket: /var/spool/postfix/tlsrpt/tlsrpt.sock    # smtp runs chrooted", show.Stdout); // Debian: smtp chroot y
        Assert.Contains("tlsrpt-out unix  -       -       y       -       -       smtp", show.Stdout);
        var apply = await Setup("--postconf", postconf, "--mail-from", "tlsrpt-noreply@sender.test", "--apply");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        var (_, main, _) = await ChildProcess.RunAsync(TestBinaries.Require("chroot"),
            [root.Path, "postconf", "-h", "smtp_tls_policy_maps", "smtp_tlsrpt_enable", "smtp_tlsrpt_socket_name", "sender_dependent_default_transport_maps"], ct: _ct);
        Assert.Equal("socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT\nyes\ntlsrpt/tlsrpt.sock\ninline:{ tlsrpt-noreply@sender.test=tlsrpt-out: }\n", main);
        var (_, master, _) = await ChildProcess.RunAsync(TestBinaries.Require("chroot"), [root.Path, "postconf", "-Mf", "tlsrpt-out/unix"], ct: _ct);
        Assert.Contains("-o smtp_tlsrpt_enable=no", master);
        var (check, o, e) = await ChildProcess.RunAsync(TestBinaries.Require("chroot"), [root.Path, "postfix", "check"], ct: _ct);
        Assert.True(check == 0, o + e);
        Assert.Contains("nothing to change", (await Setup("--postconf", postconf, "--mail-from", "tlsrpt-noreply@sender.test")).Stdout);
    }

    [Theory]
    [InlineData("--postconf", "/nonexistent/postconf", "cannot run /nonexistent/postconf (is Postfix installed?)")]
    [InlineData("--config-directory", "/nonexistent-postfix-dir", "/nonexistent-postfix-dir/main.cf: No such file or directory")]
    public async Task Without_a_readable_postfix_it_fails_with_one_line_and_changes_nothing(string option, string value, string message)
    {
        var r = await Setup(option, value, "--apply");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("portcullis: postfix-setup: ", line);
        Assert.Contains(message, line);
        Assert.False(Directory.Exists("/nonexistent-postfix-dir"));
    }

    /// <summary>
    /// A postconf wrapper that reports a chosen mail_version and runs the host's real postconf for everything else.
    /// This tests our version logic (which lines and warnings for which version), not a mock of Postfix: every
    /// other answer, and every write with --apply, comes from the real postconf.
    /// </summary>
    private static string FakeVersionPostconf(TempDir dir, string version)
    {
        string path = dir.File("postconf-" + version);
        File.WriteAllText(path, $"#!/bin/sh\nfor a; do [ \"$a\" = mail_version ] && {{ echo {version}; exit 0; }}; done\nexec {TestBinaries.Require("postconf")} \"$@\"\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    [Fact]
    public async Task Postfix_older_than_3_4_is_refused_with_one_line_and_main_cf_unchanged()
    {
        using var pf = new PostfixHarness();
        using var dir = new TempDir("postfix-setup-old");
        string before = await File.ReadAllTextAsync(Path.Combine(pf.ConfigDirectory, "main.cf"), _ct);
        var r = await Setup("--postconf", FakeVersionPostconf(dir, "3.3.2"), "--config-directory", pf.ConfigDirectory, "--apply");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal("portcullis: postfix-setup: Postfix 3.3.2 is older than 3.4 (no socketmap TLS policy support tested); nothing changed\n", r.Stderr);
        Assert.Equal(before, await File.ReadAllTextAsync(Path.Combine(pf.ConfigDirectory, "main.cf"), _ct));
    }

    [Fact]
    public async Task An_unreadable_main_cf_fails_with_one_line_and_changes_nothing()
    {
        // Root reads any file, so postconf runs as nobody (a real postconf, a real permission error).
        using var pf = new PostfixHarness();
        using var dir = new TempDir("postfix-setup-unreadable");
        string main = Path.Combine(pf.ConfigDirectory, "main.cf");
        File.SetUnixFileMode(pf.ConfigDirectory, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(main, (UnixFileMode)0b110_000_000);
        string before = await File.ReadAllTextAsync(main, _ct);
        string wrapper = dir.File("postconf");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec {TestBinaries.Require("setpriv")} --reuid=nobody --regid=nogroup --clear-groups {TestBinaries.Require("postconf")} \"$@\"\n", _ct);
        File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        var r = await Setup("--postconf", wrapper, "--config-directory", pf.ConfigDirectory, "--apply");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"portcullis: postfix-setup: {TestBinaries.Require("postconf")}: fatal: open {main}: Permission denied", line);
        Assert.Equal(before, await File.ReadAllTextAsync(main, _ct));
    }

    [Theory]
    [InlineData("3.10.0", true)]
    [InlineData("3.10.5", true)]
    [InlineData("3.10.6", false)]
    public async Task Postfix_3_10_0_to_3_10_5_get_the_upgrade_warning_and_one_without_tlsrpt_the_tlsrpt_warning(string version, bool upgrade)
    {
        // The real postconf is the host's 3.7, which has no smtp_tlsrpt_enable: a "3.10 built without TLSRPT".
        using var pf = new PostfixHarness();
        using var dir = new TempDir("postfix-setup-310");
        var r = await Setup("--postconf", FakeVersionPostconf(dir, version), "--config-directory", pf.ConfigDirectory);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var lines = r.Stdout.Split('\n');
        Assert.Equal(upgrade, lines.Contains($"warning: Postfix {version}: upgrade to 3.10.6 or later (3.10.0-3.10.5 crash on some TLSRPT policies; smtp_tls_enforce_sts_mx_patterns needs 3.10.5)"));
        Assert.Contains("warning: this Postfix is built without TLSRPT support (no smtp_tlsrpt_enable): no TLS-RPT reporting", lines);
        Assert.Contains($"smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT", r.Stdout);
        Assert.DoesNotContain("smtp_tlsrpt_enable =", r.Stdout); // not offered to a Postfix that would reject it
        Assert.DoesNotContain("tlsrpt-out", r.Stdout);
    }
}
