using Portcullis.Core.Names;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Names;

/// <summary>The one normalisation of domain names, row by row; the codes are asserted, the text checked once per kind.</summary>
public sealed class DomainNameTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM", "example.com")]              // lower case
    [InlineData("example.com.", "example.com")]             // one root dot dropped
    [InlineData("bücher.example", "xn--bcher-kva.example")] // U-label to A-label
    [InlineData("XN--BCHER-KVA.example", "xn--bcher-kva.example")]
    [InlineData("localhost", "localhost")]                  // one label is a name
    [InlineData("1a.test", "1a.test")]
    [InlineData("a.b-c.test", "a.b-c.test")]
    public void Accepted(string text, string canonical)
    {
        Assert.True(DomainName.TryParse(text, out var name, out var problem));
        Assert.Equal((canonical, NameError.None), (name.Value, problem.Code));
        Assert.True(DomainName.IsCanonical(canonical));
        Assert.Equal(text == canonical, DomainName.IsCanonical(text));
    }

    [Theory]
    [InlineData("", NameError.Empty)]
    [InlineData(".", NameError.Empty)]
    [InlineData("a..test", NameError.EmptyLabel)]
    [InlineData(".a.test", NameError.EmptyLabel)]
    [InlineData("a.test..", NameError.EmptyLabel)]          // only one root dot is dropped
    [InlineData("-a.test", NameError.HyphenAtLabelEdge)]
    [InlineData("a-.test", NameError.HyphenAtLabelEdge)]
    [InlineData("a_b.test", NameError.InvalidCharacter)]    // no underscores: not a host name
    [InlineData("a b.test", NameError.InvalidCharacter)]
    [InlineData(" a.test", NameError.InvalidCharacter)]     // nothing is trimmed
    [InlineData("a.test:25", NameError.InvalidCharacter)]   // a next-hop, not a domain
    [InlineData("[a.test]", NameError.InvalidCharacter)]
    [InlineData("192.0.2.1", NameError.Numeric)]
    [InlineData("a.123", NameError.Numeric)]
    [InlineData("xn--zz.test", NameError.InvalidPunycode)]
    [InlineData("a\u0000.test", NameError.InvalidCharacter)]
    [InlineData("xn--ü.test", NameError.InvalidUnicode)]    // an ACE prefix on a U-label
    public void Refused(string text, NameError code)
    {
        Assert.False(DomainName.TryParse(text, out var name, out var problem));
        Assert.Equal(code, problem.Code);
        Assert.Equal("", name.Value);
        Assert.False(DomainName.IsCanonical(text));
    }

    [Fact]
    public void Lengths_are_bounded()
    {
        string label63 = new('a', 63), label64 = new('a', 64);
        Assert.True(DomainName.TryParse(label63 + ".test", out _));
        Assert.False(DomainName.TryParse(label64 + ".test", out _, out var p1));
        Assert.Equal(NameError.LabelTooLong, p1.Code);
        string name253 = string.Join('.', Enumerable.Repeat(new string('b', 61), 4)) + ".abcde"; // 4*62 + 5 = 253
        Assert.Equal(253, name253.Length);
        Assert.True(DomainName.TryParse(name253, out _));
        Assert.True(DomainName.TryParse(name253 + ".", out _));   // the root dot does not count
        Assert.False(DomainName.TryParse("c" + name253, out _, out var p2));
        Assert.Equal(NameError.TooLong, p2.Code);
    }

    [Theory]
    [InlineData("a..test", "empty label in 'a..test'")]
    [InlineData("-a.test", "label '-a' starts or ends with '-'")]
    [InlineData("a_b.test", "invalid character '_' in 'a_b.test'")]
    [InlineData("a.123", "'a.123' is an IP address, not a hostname")]
    [InlineData("xn--zz.test", "invalid punycode label 'xn--zz'")]
    [InlineData(".", "no domain in '.'")]
    public void Details_name_the_problem(string text, string detail)
    {
        Assert.False(DomainName.TryParse(text, out _, out var problem));
        Assert.Equal(detail, problem.Detail);
    }

    [Theory]
    [InlineData("Example.COM.")]
    [InlineData("[mx.example.com]:587")]
    [InlineData("mx.example.com:25")]
    [InlineData("bücher.example")]
    public void The_next_hop_parser_gives_the_same_domain(string key)
    {
        var hop = NextHopParser.Parse(key);
        string host = key.TrimStart('[').Split(']')[0].Split(':')[0];
        Assert.True(DomainName.TryParse(host, out var name));
        Assert.Equal((NextHopKind.Domain, name.Value), (hop.Kind, hop.Domain));
    }
}
