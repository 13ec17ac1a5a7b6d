using Portcullis.Core.Postfix;

namespace Portcullis.Tests.Postfix;

public sealed class DoctorRulesTests
{
    [Theory]
    [InlineData("socketmap:inet:127.0.0.1:8642:QUERY", "inet", "127.0.0.1:8642", "QUERY")]
    [InlineData("hash:/etc/postfix/tls_policy, socketmap:unix:/run/portcullis/sock:QUERYwithTLSRPT", "unix", "/run/portcullis/sock", "QUERYwithTLSRPT")]
    [InlineData("socketmap:inet:[::1]:8642:STRICT", "inet", "[::1]:8642", "STRICT")]
    public void Finds_the_socketmap_entry(string maps, string transport, string address, string name)
    {
        var e = SocketmapEntry.FindIn(maps);
        Assert.NotNull(e);
        Assert.Equal((transport, address, name), (e.Transport, e.Address, e.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hash:/etc/postfix/tls_policy")]
    [InlineData("socketmap:inet:127.0.0.1:8642:")]
    public void No_socketmap_entry(string maps) => Assert.Null(SocketmapEntry.FindIn(maps));

    [Theory]
    [InlineData(0, "", PostmapKind.Ok)]
    [InlineData(1, "", PostmapKind.NotFound)]
    [InlineData(1, "postmap: warning: ... socketmap server temporary error: x\npostmap: fatal: table ...: query error", PostmapKind.Temp)]
    [InlineData(1, "postmap: warning: ... socketmap server permanent error: unknown map name X\npostmap: fatal: ...", PostmapKind.Perm)]
    [InlineData(1, "postmap: warning: connect to 127.0.0.1:1: Connection refused\npostmap: fatal: table ...: query error", PostmapKind.Unreachable)]
    public void Classifies_postmap(int exit, string stderr, PostmapKind kind) => Assert.Equal(kind, DoctorRules.ClassifyPostmap(exit, stderr));

    [Theory]
    [InlineData("3.7.11", "QUERY", DoctorStatus.Ok)]
    [InlineData("3.7.11", "QUERYwithTLSRPT", DoctorStatus.Fail)]
    [InlineData("3.9.1", "QUERYwithTLSRPT", DoctorStatus.Fail)]
    [InlineData("3.10.13", "QUERYwithTLSRPT", DoctorStatus.Ok)]
    [InlineData("3.10.13", "QUERY", DoctorStatus.Warn)]
    [InlineData("3.11.0", "queryWithTlsrpt", DoctorStatus.Ok)]
    public void Map_name_by_version(string version, string name, DoctorStatus status) =>
        Assert.Equal(status, DoctorRules.MapName(DoctorRules.ParseVersion(version)!, version, new("m", "inet", "127.0.0.1:8642", name)).Status);

    [Theory]
    [InlineData("3.7.11", null, false, DoctorStatus.Ok)]
    [InlineData("3.7.11", null, true, DoctorStatus.Warn)]
    [InlineData("3.10.13", null, true, DoctorStatus.Fail)]   // built without libtlsrpt
    [InlineData("3.10.13", null, false, DoctorStatus.Warn)]
    [InlineData("3.10.13", "yes", true, DoctorStatus.Ok)]
    [InlineData("3.10.13", "no", false, DoctorStatus.Ok)]
    [InlineData("3.10.13", "yes", false, DoctorStatus.Fail)]
    [InlineData("3.10.13", "no", true, DoctorStatus.Fail)]
    public void Tlsrpt_enable_matches_collecting(string version, string? enable, bool collecting, DoctorStatus status) =>
        Assert.Equal(status, DoctorRules.TlsRptEnable(DoctorRules.ParseVersion(version)!, version, enable, collecting).Status);

    [Fact]
    public void Levels_fail_without_dnssec_and_warn_without_dane()
    {
        Assert.Equal([DoctorStatus.Ok, DoctorStatus.Ok], DoctorRules.Levels("dnssec", "dane").Select(l => l.Status));
        Assert.Equal([DoctorStatus.Fail, DoctorStatus.Warn], DoctorRules.Levels("enabled", "may").Select(l => l.Status));
    }

    [Theory]
    [InlineData("tlsrpt/tlsrpt.sock", "/var/spool/postfix", true, "/var/spool/postfix/tlsrpt/tlsrpt.sock")]
    [InlineData("tlsrpt/tlsrpt.sock", "/var/spool/postfix", false, "/var/spool/postfix/tlsrpt/tlsrpt.sock")]
    [InlineData("/run/tlsrpt.sock", "/var/spool/postfix", true, "/var/spool/postfix/run/tlsrpt.sock")]
    [InlineData("/run/tlsrpt.sock", "/var/spool/postfix", false, "/run/tlsrpt.sock")]
    public void Socket_path_as_smtp_sees_it(string name, string queue, bool chrooted, string path) =>
        Assert.Equal(path, DoctorRules.TlsRptSocketPath(name, queue, chrooted));

    [Theory]
    [InlineData(0, 107, 0b110_110_000, 105, true)]   // root:postfix 0660, postfix in its group
    [InlineData(0, 0, 0b110_000_000, 105, false)]    // root:root 0600
    [InlineData(0, 0, 0b110_110_110, 105, true)]     // world-writable
    [InlineData(105, 0, 0b000_110_110, 105, false)]  // owner bits apply to the owner, even if others may
    public void Write_permission(int fileUid, int fileGid, int mode, int uid, bool can) =>
        Assert.Equal(can, DoctorRules.CanWrite(fileUid, fileGid, mode, uid, [107]));

    [Fact]
    public void Resolv_conf_nameservers_and_trust_ad()
    {
        var (ns, trust) = DoctorRules.ParseResolvConf("# comment\nnameserver 127.0.0.1\nnameserver ::1\noptions edns0 trust-ad\n");
        Assert.Equal(["127.0.0.1", "::1"], ns);
        Assert.True(trust);
        Assert.False(DoctorRules.ParseResolvConf("nameserver 127.0.0.1\n#options trust-ad\noptions edns0\n").TrustAd);
        Assert.Equal(3, DoctorRules.ParseResolvConf("nameserver 1.1.1.1\nnameserver 1.1.1.2\nnameserver 1.1.1.3\nnameserver 1.1.1.4\n").Nameservers.Count);
    }

    [Fact]
    public void Lines_print_status_found_and_fix() =>
        Assert.Equal("FAIL x: found -> fix: do it", new DoctorLine(DoctorStatus.Fail, "x", "found", "do it").ToString());
}
