using System.Text;
using Portcullis.Core.MtaSts;

namespace Portcullis.Tests.MtaSts;

public class StsPolicyParserTests
{
    private const string Basic = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n";

    private static StsPolicyParseResult Parse(string body) => StsPolicyParser.Parse(Encoding.UTF8.GetBytes(body));

    private static StsPolicy Valid(string body)
    {
        var r = Parse(body);
        Assert.True(r.IsValid, r.Error);
        Assert.Null(r.Error);
        return r.Policy!;
    }

    private static void Invalid(string body, string error)
    {
        var r = Parse(body);
        Assert.False(r.IsValid);
        Assert.Null(r.Policy);
        Assert.Equal(error, r.Error);
    }

    private static void Invalid(string body, PolicyError code)
    {
        var r = Parse(body);
        Assert.False(r.IsValid);
        Assert.Null(r.Policy);
        Assert.Equal(code, r.Code);
        Assert.False(string.IsNullOrEmpty(r.Error));
    }

    // One row per code: the text the checker and the logs show still says what is wrong and where.
    [Theory]
    [InlineData("version: STSv1\nmode: none\nmax_age: -1\n", PolicyError.InvalidMaxAge, "line 3: max_age must be 1 to 10 digits, got '-1'")]
    [InlineData("version: STSv1\nmode: none\nmax_age: 31557601\n", PolicyError.InvalidMaxAge, "line 3: max_age 31557601 exceeds 31557600")]
    [InlineData("version: STSv1\nmode: none\nmax_age:\n", PolicyError.EmptyValue, "line 3: empty value for 'max_age'")]
    [InlineData("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidMode, "line 2: mode must be enforce, testing or none (case-sensitive), got 'Enforce'")]
    [InlineData("version: STSv1\nmode : enforce\nmx: a.example\nmax_age: 1\n", PolicyError.SpaceBeforeColon, "line 2: space before ':' in key 'mode '")]
    [InlineData("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", PolicyError.NoColon, "line 2: no ':' in 'mode enforce'")]
    [InlineData("version: STSv1\n_x: y\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidKey, "line 2: invalid key '_x'")]
    [InlineData("version: STSv1\nfoo: a\u0001b\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.ControlCharacter, "line 2: control character '\\x01' in value of 'foo'")]
    [InlineData("version: STSv1\nmode: enforce\n\nmx: a.example\nmax_age: 1\n", PolicyError.BlankLine, "line 3: blank line inside the policy")]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidVersion, "line 1: version must be 'STSv1', got 'STSv2'")]
    [InlineData("version: STSv1\nmx: a.example\n", PolicyError.MissingField, "missing required field(s): mode, max_age")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 1\n", PolicyError.NoMx, "no mx (required unless mode is none; mode is enforce)")]
    [InlineData("\n\n", PolicyError.Empty, "policy is empty")]
    [InlineData("version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1\n", PolicyError.InvalidMx, "line 3: mx '*.' has no domain")]
    public void Each_code_has_a_sensible_message(string body, PolicyError code, string text)
    {
        var r = Parse(body);
        Assert.Equal((code, text), (r.Code, r.Error));
    }

    [Theory]
    [InlineData(Basic)]
    [InlineData("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")]
    [InlineData("version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmx: *.example.net\nmax_age: 604800")]
    [InlineData("version:STSv1\nmode:\tenforce\nmx:   mail.example.com  \nmx: *.example.net\t\nmax_age: 604800")]
    [InlineData(Basic + "\n")]
    [InlineData(Basic + "\r\n\r\n\n")]
    [InlineData(Basic + "  \n\t")]
    public void LineEndingsAndWhitespaceParseTheSame(string body)
    {
        var p = Valid(body);
        Assert.Equal(StsMode.Enforce, p.Mode);
        Assert.Equal(604800, p.MaxAgeSeconds);
        Assert.Equal(["mail.example.com", "*.example.net"], p.MxPatterns);
        Assert.Equal(["version: STSv1", "mode: enforce", "mx: mail.example.com", "mx: *.example.net", "max_age: 604800"], p.Lines);
    }

    [Fact]
    public void LinesKeepUnknownKeysAndDuplicatesInFileOrder()
    {
        var p = Valid("mx: MX1.Example.COM\nversion: STSv1\nfoo: bar baz\nmode: testing\nmode: enforce\nmax_age: 0\nmx: mx1.example.com\nMode: none\n");
        Assert.Equal(StsMode.Testing, p.Mode);
        Assert.Equal(0, p.MaxAgeSeconds);
        Assert.Equal(["mx1.example.com", "mx1.example.com"], p.MxPatterns);
        Assert.Equal(["mx: MX1.Example.COM", "version: STSv1", "foo: bar baz", "mode: testing", "mode: enforce",
            "max_age: 0", "mx: mx1.example.com", "Mode: none"], p.Lines);
    }

    [Theory]
    [InlineData("mode: bogus")]
    [InlineData("max_age: -1")]
    [InlineData("version: STSv2")]
    public void LaterDuplicatesAreIgnoredEvenIfInvalid(string duplicate)
    {
        var p = Valid(Basic + duplicate + "\n");
        Assert.Equal(StsMode.Enforce, p.Mode);
        Assert.Equal(604800, p.MaxAgeSeconds);
        Assert.Equal(6, p.Lines.Count);
    }

    [Theory]
    [InlineData("enforce", StsMode.Enforce)]
    [InlineData("testing", StsMode.Testing)]
    [InlineData("none", StsMode.None)]
    public void Modes(string mode, StsMode expected)
    {
        var p = Valid($"version: STSv1\nmode: {mode}\nmx: mx.example.com\nmax_age: 86400\n");
        Assert.Equal(expected, p.Mode);
        Assert.Equal(mode, StsModeNames.ToWire(expected));
    }

    [Fact]
    public void ModeNoneNeedsNoMx()
    {
        var p = Valid("version: STSv1\nmode: none\nmax_age: 86400\n");
        Assert.Equal(StsMode.None, p.Mode);
        Assert.Empty(p.MxPatterns);
        Assert.Equal(["version: STSv1", "mode: none", "max_age: 86400"], p.Lines);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    [InlineData("0000000001", 1L)]
    [InlineData("31557600", 31557600L)]
    public void MaxAgeValid(string value, long expected) =>
        Assert.Equal(expected, Valid($"version: STSv1\nmode: none\nmax_age: {value}\n").MaxAgeSeconds);

    [Theory]
    [InlineData("-1", PolicyError.InvalidMaxAge)]
    [InlineData("1e6", PolicyError.InvalidMaxAge)]
    [InlineData("+5", PolicyError.InvalidMaxAge)]
    [InlineData("1 000", PolicyError.InvalidMaxAge)]
    [InlineData("00000000001", PolicyError.InvalidMaxAge)]
    [InlineData("31557601", PolicyError.InvalidMaxAge)]
    [InlineData("9999999999", PolicyError.InvalidMaxAge)]
    [InlineData("\u0661\u0662", PolicyError.InvalidMaxAge)]
    public void MaxAgeInvalid(string value, PolicyError code) =>
        Invalid($"version: STSv1\nmode: none\nmax_age: {value}\n", code);

    [Fact]
    public void MaxAgeEmptyIsInvalid() =>
        Invalid("version: STSv1\nmode: none\nmax_age:\n", "line 3: empty value for 'max_age'");

    [Theory]
    [InlineData("mail.example.com", "mail.example.com")]
    [InlineData("*.example.com", "*.example.com")]
    [InlineData("MAIL.Example.COM", "mail.example.com")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("a-b.c1.example", "a-b.c1.example")]
    [InlineData("mx1.123.example", "mx1.123.example")]
    public void MxValid(string mx, string expected) =>
        Assert.Equal([expected], Valid($"version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 86400\n").MxPatterns);

    [Theory]
    [InlineData("192.0.2.1", "line 3: invalid mx '192.0.2.1': '192.0.2.1' is an IP address, not a hostname")]
    [InlineData("[192.0.2.1]", "line 3: invalid mx '[192.0.2.1]': invalid character '[' in '[192.0.2.1]'")]
    [InlineData("mail.*.example.com", "line 3: invalid mx 'mail.*.example.com': invalid character '*' in 'mail.*.example.com'")]
    [InlineData("*example.com", "line 3: invalid mx '*example.com': invalid character '*' in '*example.com'")]
    [InlineData("*.*.example.com", "line 3: invalid mx '*.*.example.com': invalid character '*' in '*.example.com'")]
    [InlineData("*.", "line 3: mx '*.' has no domain")]
    [InlineData("*.com", "line 3: invalid mx '*.com': hostname 'com' needs at least 2 labels")]
    [InlineData("localhost", "line 3: invalid mx 'localhost': hostname 'localhost' needs at least 2 labels")]
    [InlineData("mail.example.com.", "line 3: invalid mx 'mail.example.com.': empty label in 'mail.example.com.'")]
    [InlineData("-mx.example.com", "line 3: invalid mx '-mx.example.com': label '-mx' starts or ends with '-'")]
    [InlineData("mx_1.example.com", "line 3: invalid mx 'mx_1.example.com': invalid character '_' in 'mx_1.example.com'")]
    [InlineData("mx.example.com:25", "line 3: invalid mx 'mx.example.com:25': invalid character ':' in 'mx.example.com:25'")]
    [InlineData("mx.example.com other.example.com", "line 3: invalid mx 'mx.example.com other.example.com': invalid character ' ' in 'mx.example.com other.example.com'")]
    [InlineData("b\u00fccher.example", "line 3: mx 'b\u00fccher.example' is not ASCII (use the A-label form)")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
        "line 3: invalid mx 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' has 64 characters (max 63)")]
    public void MxInvalid(string mx, string error) =>
        Invalid($"version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 86400\n", error);

    [Fact]
    public void MxLongerThan253IsInvalid()
    {
        var host = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 chars
        var r = Parse($"version: STSv1\nmode: enforce\nmx: {host}\nmax_age: 86400\n");
        Assert.False(r.IsValid);
        Assert.EndsWith("hostname has 255 characters (max 253)", r.Error);
    }

    [Theory]
    [InlineData("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidMode)]
    [InlineData("version: STSv1\nmode : enforce\nmx: a.example\nmax_age: 1\n", PolicyError.SpaceBeforeColon)]
    [InlineData("version: STSv1\nmode\t: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.SpaceBeforeColon)]
    [InlineData("version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.MissingField)]
    [InlineData("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", PolicyError.NoColon)]
    [InlineData(" version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidKey)]
    [InlineData("version: STSv1\n_x: y\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidKey)]
    [InlineData("version: STSv1\n: y\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidKey)]
    [InlineData("version: STSv1\nfoo:\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.EmptyValue)]
    [InlineData("version: STSv1\nfoo: a\u0001b\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.ControlCharacter)]
    [InlineData("version: STSv1\nfoo: a\tb\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.ControlCharacter)]
    [InlineData("version: STSv1\nfoo: a\rb\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.ControlCharacter)]
    [InlineData("version: STSv1\nmode: enforce\n\nmx: a.example\nmax_age: 1\n", PolicyError.BlankLine)]
    [InlineData("version: STSv1\r\nmode: enforce\r\n \r\nmx: a.example\r\nmax_age: 1\r\n", PolicyError.BlankLine)]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidVersion)]
    [InlineData("version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.InvalidVersion)]
    [InlineData("mode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError.MissingField)]
    [InlineData("version: STSv1\nmx: a.example\n", PolicyError.MissingField)]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 1\n", PolicyError.NoMx)]
    [InlineData("version: STSv1\nmode: testing\nmax_age: 1\n", PolicyError.NoMx)]
    [InlineData("", PolicyError.Empty)]
    [InlineData("\n\r\n", PolicyError.Empty)]
    [InlineData("<html><body>hi</body></html>", PolicyError.NoColon)]
    public void InvalidPolicies(string body, PolicyError code) => Invalid(body, code);

    [Fact]
    public void ByteOrderMarkIsInvalid()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Basic)).ToArray();
        var r = StsPolicyParser.Parse(bytes);
        Assert.False(r.IsValid);
        Assert.Equal(PolicyError.ByteOrderMark, r.Code);
        Assert.Equal("body starts with a UTF-8 byte order mark", r.Error); // the one row for this message
    }

    [Fact]
    public void InvalidUtf8IsInvalid()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes(Basic + "foo: "), 0xC3, 0x28, (byte)'\n'];
        var r = StsPolicyParser.Parse(bytes);
        Assert.False(r.IsValid);
        Assert.Equal(PolicyError.NotUtf8, r.Code);
        Assert.Equal("body is not valid UTF-8", r.Error); // the one row for this message
    }

    [Fact]
    public void Utf8InUnknownValueIsAllowed()
    {
        var p = Valid(Basic + "note: caf\u00e9 \u2603\n");
        Assert.Equal("note: caf\u00e9 \u2603", p.Lines[^1]);
    }

    // Pads with one long unknown-key line so the body is exactly `size` bytes.
    private static byte[] Padded(int size)
    {
        const string head = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\npad: ";
        var body = head + new string('x', size - head.Length - 1) + "\n";
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Equal(size, bytes.Length);
        return bytes;
    }

    [Fact]
    public void MaxSizeBodyIsAccepted()
    {
        var r = StsPolicyParser.Parse(Padded(StsPolicyParser.MaxBodyBytes));
        Assert.True(r.IsValid, r.Error);
        Assert.Equal(["mail.example.com"], r.Policy!.MxPatterns);
        Assert.Equal(5, r.Policy.Lines.Count);
    }

    [Fact]
    public void OversizeBodyIsRejected()
    {
        var r = StsPolicyParser.Parse(Padded(StsPolicyParser.MaxBodyBytes + 1));
        Assert.False(r.IsValid);
        Assert.Equal(PolicyError.TooLarge, r.Code);
        Assert.Equal("body is 65537 bytes (max 65536)", r.Error); // the one row for this message
    }

    [Fact]
    public void ManyMxLinesNearLimitAreKeptInOrder()
    {
        var sb = new StringBuilder("version: STSv1\nmode: enforce\nmax_age: 604800\n");
        for (var i = 0; i < 2000; i++)
        {
            sb.Append(CultureInvariant($"mx: mx{i}.example.com\n"));
        }
        var p = Valid(sb.ToString());
        Assert.Equal(2000, p.MxPatterns.Count);
        Assert.Equal("mx0.example.com", p.MxPatterns[0]);
        Assert.Equal("mx1999.example.com", p.MxPatterns[^1]);
        Assert.Equal(2003, p.Lines.Count);
    }

    private static string CultureInvariant(FormattableString s) => FormattableString.Invariant(s);

    [Fact]
    public void ConstantsMatchRfc()
    {
        Assert.Equal(65536, StsPolicyParser.MaxBodyBytes);
        Assert.Equal(31557600, StsPolicyParser.MaxMaxAge);
    }
}
