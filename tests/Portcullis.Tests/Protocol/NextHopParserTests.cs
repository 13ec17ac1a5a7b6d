using System.Globalization;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Protocol;

public class NextHopParserTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("mail.example.com", "mail.example.com")]
    [InlineData("example.com:25", "example.com")]
    [InlineData("localhost", "localhost")]
    [InlineData("a-b.example", "a-b.example")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("b\u00fccher.example", "xn--bcher-kva.example")]
    [InlineData("B\u00dcCHER.Example.", "xn--bcher-kva.example")]
    [InlineData("\u4f8b\u3048.\u30c6\u30b9\u30c8", "xn--r8jz45g.xn--zckzah")]
    [InlineData("1.example", "1.example")]
    [InlineData("mail.xn--r8jz45g.xn--zckzah", "mail.xn--r8jz45g.xn--zckzah")]
    public void Domains(string key, string domain)
    {
        var h = NextHopParser.Parse(key);
        Assert.Equal(NextHopKind.Domain, h.Kind);
        Assert.Equal(domain, h.Domain);
        Assert.NotEmpty(h.Detail);
    }

    [Theory]
    [InlineData("[relay.example.net]:587", "relay.example.net", "next-hop [relay.example.net]:587, applying host policy")]
    [InlineData("[Relay.Example.NET]", "relay.example.net", "next-hop [Relay.Example.NET], applying host policy")]
    [InlineData("[relay.example.net.]:25", "relay.example.net", "next-hop [relay.example.net.]:25, applying host policy")]
    [InlineData("[b\u00fccher.example]:65535", "xn--bcher-kva.example", "next-hop [b\u00fccher.example]:65535, applying host policy")]
    public void BracketedHostsApplyHostPolicy(string key, string domain, string detail) =>
        Assert.Equal(new NextHop(NextHopKind.Domain, domain, detail), NextHopParser.Parse(key));

    [Theory]
    [InlineData(".example.com", "example.com")]
    [InlineData(".com", "com")]
    [InlineData(".Example.COM", "example.com")]
    [InlineData(".", "")] // any leading dot is a retry key; it is never looked up, so not validated
    [InlineData("..example.com", ".example.com")]
    public void ParentRetry(string key, string domain)
    {
        var h = NextHopParser.Parse(key);
        Assert.Equal(new NextHop(NextHopKind.ParentRetry, domain, "parent-domain retry key, not looked up"), h);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "192.0.2.1")]
    [InlineData("[192.0.2.1]:25", "192.0.2.1")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    [InlineData("[ipv6:2001:db8::1]:587", "ipv6:2001:db8::1")]
    [InlineData("[IPv6:::1]", "IPv6:::1")]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    public void AddressLiterals(string key, string domain)
    {
        var h = NextHopParser.Parse(key);
        Assert.Equal(NextHopKind.AddressLiteral, h.Kind);
        Assert.Equal(domain, h.Domain);
    }

    [Theory]
    [InlineData("", "empty key")]
    [InlineData("[relay.example.net", "unbalanced '[' in '[relay.example.net'")]
    [InlineData("[relay.example.net]:0", "bad port suffix ':0' after ']'")]
    [InlineData("[relay.example.net]:65536", "bad port suffix ':65536' after ']'")]
    [InlineData("[relay.example.net]:", "bad port suffix ':' after ']'")]
    [InlineData("[relay.example.net]x", "bad port suffix 'x' after ']'")]
    [InlineData("[]", "no domain in ''")]
    [InlineData("example.com:smtp", "bad port in 'example.com:smtp'")]
    [InlineData("example.com:", "bad port in 'example.com:'")]
    [InlineData("example..com", "empty label in 'example..com'")]
    [InlineData("example.com..", "empty label in 'example.com.'")]
    [InlineData("_dmarc.example.com", "invalid character '_' in '_dmarc.example.com'")]
    [InlineData("-bad.example", "label '-bad' starts or ends with '-'")]
    [InlineData("exa mple.com", "invalid character ' ' in 'exa mple.com'")]
    [InlineData("192.0.2", "'192.0.2' is an IP address, not a hostname")]
    [InlineData("256.0.2.1", "'256.0.2.1' is an IP address, not a hostname")]
    [InlineData("xn--zz.test", "invalid punycode label 'xn--zz'")]
    [InlineData("mail.XN--ZZ.test:25", "invalid punycode label 'xn--zz'")]
    [InlineData("[xn--zz.example]:25", "invalid punycode label 'xn--zz'")]
    [InlineData("ok.xn--99999999.example", "invalid punycode label 'xn--99999999'")]
    public void InvalidKeys(string key, string detail)
    {
        Assert.Equal(new NextHop(NextHopKind.Invalid, "", detail), NextHopParser.Parse(key));
    }

    [Fact]
    public void LabelAndNameLengthLimits()
    {
        var label63 = new string('a', 63);
        Assert.Equal(NextHopKind.Domain, NextHopParser.Parse(label63 + ".example").Kind);
        Assert.Equal(NextHopKind.Invalid, NextHopParser.Parse(label63 + "a.example").Kind);
        var name253 = string.Join('.', Enumerable.Repeat(label63, 3)) + "." + new string('b', 61);
        Assert.Equal(253, name253.Length);
        Assert.Equal(NextHopKind.Domain, NextHopParser.Parse(name253).Kind);
        Assert.Equal(NextHopKind.Domain, NextHopParser.Parse(name253 + ".").Kind);
        var h = NextHopParser.Parse(name253 + "b");
        Assert.Equal(new NextHop(NextHopKind.Invalid, "", "hostname has 254 characters (max 253)"), h);
    }

    [Fact]
    public void InvalidUnicodeNameIsInvalidNotAnException()
    {
        var h = NextHopParser.Parse("b\u00fccher\u0000.example");
        Assert.Equal(NextHopKind.Invalid, h.Kind);
        Assert.Equal("", h.Domain);
    }

    // The build sets InvariantGlobalization=true; IDN mapping must still work (it does not use ICU
    // culture data in invariant mode on .NET 8+). This pins that assumption.
    [Fact]
    public void IdnMappingWorksInInvariantGlobalizationMode()
    {
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant);
        Assert.Equal("xn--mnchen-3ya.de", new IdnMapping().GetAscii("m\u00fcnchen.de"));
    }
}
