using System.Net;
using Portcullis.Configuration;
using Portcullis.Net;
using Portcullis.Publishing;

namespace Portcullis.Tests.Net;

public sealed class TrustedProxiesTests
{
    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10", true)]
    [InlineData("192.0.2.10", "192.0.2.11", false)]
    [InlineData("192.0.2.10", "::ffff:192.0.2.10", true)] // dual-stack listener
    [InlineData("192.0.2.0/28", "192.0.2.15", true)]
    [InlineData("192.0.2.0/28", "192.0.2.16", false)]
    [InlineData("2001:db8::7", "2001:db8::7", true)]
    [InlineData("2001:db8::/64", "2001:db8::1:2", true)]
    [InlineData("2001:db8::/64", "2001:db8:1::1", false)]
    public void Exact_addresses_and_cidrs(string entry, string peer, bool trusted)
    {
        var t = TrustedProxies.Parse([entry], out string? error);
        Assert.Null(error);
        Assert.Equal(trusted, t!.Contains(IPAddress.Parse(peer)));
    }

    [Fact]
    public void Default_trusts_nobody() =>
        Assert.False(new Settings(ConfigLoader.Validate(new PortcullisConfig())).TrustedProxies.Contains(IPAddress.Loopback));

    [Theory]
    [InlineData("proxy.example.net")]
    [InlineData("192.0.2.0/33")]
    [InlineData("192.0.2.1/28")] // host bits set: a typo, not a network
    public void Bad_entries_fail_the_config_with_one_line(string entry)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Validate(new PortcullisConfig { TrustedProxies = [entry] }));
        Assert.StartsWith($"trusted_proxies: '{entry}'", ex.Message);
    }

    [Theory]
    [InlineData("LoqXcc4ZKl3vl2EPrUOhHrGW7qAyiJmrfn6VgFxsGEQ", true)]
    [InlineData("a-b_c", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a.b", false)]
    [InlineData("a%2Fb", false)]
    public void Acme_tokens_are_base64url_only(string token, bool ok) => Assert.Equal(ok, AcmeChallenges.IsToken(token));

    [Fact]
    public void Acme_challenge_files_are_read_from_the_webroot_bounded()
    {
        var root = Directory.CreateTempSubdirectory("portcullis-acme-");
        try
        {
            string dir = Directory.CreateDirectory(Path.Combine(root.FullName, ".well-known", "acme-challenge")).FullName;
            File.WriteAllText(Path.Combine(dir, "tok"), "tok.thumb");
            File.WriteAllText(Path.Combine(dir, "big"), new string('x', AcmeChallenges.MaxResponseBytes + 1));
            var acme = new AcmeChallenges(root.FullName);
            Assert.Equal("tok.thumb"u8.ToArray(), acme.Read("tok"));
            Assert.Null(acme.Read("big"));
            Assert.Null(acme.Read("missing"));
        }
        finally
        {
            root.Delete(true);
        }
    }
}
