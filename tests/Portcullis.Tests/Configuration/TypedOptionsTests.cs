using System.Net;
using Portcullis.Configuration;

namespace Portcullis.Tests.Configuration;

/// <summary>The typed values the configuration is parsed into once (listeners, cache backend, SMTP TLS mode), in-process.</summary>
public sealed class TypedOptionsTests
{
    [Theory]
    [InlineData("127.0.0.1:8642", "127.0.0.1:8642")]
    [InlineData("[::1]:25", "[::1]:25")]
    [InlineData("localhost:9", "127.0.0.1:9")]
    public void A_tcp_listener_is_its_endpoint(string text, string endpoint)
    {
        var tcp = Assert.IsType<ListenEndpoint.Tcp>(ListenEndpoint.Parse(text));
        Assert.Equal(IPEndPoint.Parse(endpoint), tcp.EndPoint);
        Assert.Equal(text, tcp.Text);
    }

    [Fact]
    public void A_unix_listener_is_its_absolute_path()
    {
        var unix = Assert.IsType<ListenEndpoint.Unix>(ListenEndpoint.Parse("unix:/run/portcullis/socketmap.sock"));
        Assert.Equal("/run/portcullis/socketmap.sock", unix.Path);
    }

    [Theory]
    [InlineData("unix:relative.sock", "metrics.listen: 'unix:relative.sock': unix socket path must be absolute")]
    [InlineData("127.0.0.1:0", "metrics.listen: '127.0.0.1:0' is not HOST:PORT (IP address) or unix:/path")]
    [InlineData("example.com:25", "metrics.listen: 'example.com:25' is not HOST:PORT (IP address) or unix:/path")]
    public void A_bad_listener_names_its_key(string text, string error) =>
        Assert.Equal(error, Assert.Throws<ConfigException>(() => ListenEndpoint.Parse(text, "metrics.listen")).Message);

    [Fact]
    public void The_cache_backend_carries_the_keys_of_its_type()
    {
        var c = new CacheConfig { Redis = "127.0.0.1:6379,password=x", Postgres = "Host=127.0.0.1", KeyPrefix = "pc" };
        c.Type = "sqlite";
        Assert.Equal(new CacheBackend.Sqlite("/var/lib/p/cache.db"), CacheBackend.From(c, "/var/lib/p/cache.db"));
        c.Type = "redis";
        Assert.Equal(new CacheBackend.Redis("127.0.0.1:6379,password=x", "pc"), CacheBackend.From(c, "unused"));
        c.Type = "postgres";
        Assert.Equal(new CacheBackend.Postgres("Host=127.0.0.1", "pc"), CacheBackend.From(c, "unused"));
    }

    [Theory]
    [InlineData("none", SmtpTls.None)]
    [InlineData("starttls", SmtpTls.StartTls)]
    [InlineData("starttls-when-available", SmtpTls.StartTlsWhenAvailable)]
    [InlineData("tls", SmtpTls.Tls)]
    public void Each_smtp_tls_name_is_one_mode(string name, SmtpTls mode)
    {
        Assert.True(SmtpTlsNames.TryParse(name, out var parsed));
        Assert.Equal(mode, parsed);
    }

    [Theory]
    [InlineData("STARTTLS")]
    [InlineData("ssl")]
    [InlineData("")]
    public void Other_smtp_tls_names_are_rejected_by_validation(string name)
    {
        Assert.False(SmtpTlsNames.TryParse(name, out _));
        var c = new PortcullisConfig();
        c.Tlsrpt.Send.Enabled = true;
        c.Tlsrpt.Send.OrganizationName = "Example";
        c.Tlsrpt.Send.ContactInfo = "tlsrpt@example.com";
        c.Tlsrpt.Send.MailFrom = "tlsrpt@example.com";
        c.Tlsrpt.Send.SmtpTls = name;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Validate(c));
        Assert.Contains($"tlsrpt.send.smtp_tls: '{name}' is not one of none, starttls, starttls-when-available, tls", ex.Errors);
    }

    [Fact]
    public void Settings_parses_each_derived_value_once()
    {
        var c = new PortcullisConfig { Listen = ["127.0.0.1:8642", "unix:/run/p.sock"] };
        c.Dns.Server = "127.0.0.1:53";
        c.Metrics.Listen = ["127.0.0.1:9642"];
        var s = new Settings(ConfigLoader.Validate(c));
        Assert.Same(s.Listen, s.Listen);
        Assert.Same(s.Maps, s.Maps);
        Assert.Same(s.Overrides, s.Overrides);
        Assert.Same(s.DnsServer, s.DnsServer);
        Assert.Same(s.Cache, s.Cache);
        Assert.Collection(s.Listen, l => Assert.IsType<ListenEndpoint.Tcp>(l), l => Assert.IsType<ListenEndpoint.Unix>(l));
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9642"), Assert.IsType<ListenEndpoint.Tcp>(Assert.Single(s.MetricsListen)).EndPoint);
        Assert.IsType<CacheBackend.Sqlite>(s.Cache);
    }
}
