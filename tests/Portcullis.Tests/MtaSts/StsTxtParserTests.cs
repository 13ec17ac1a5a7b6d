using Portcullis.Core.MtaSts;

namespace Portcullis.Tests.MtaSts;

public class StsTxtParserTests
{
    private static StsTxtResult ParseOne(params string[] strings) => StsTxtParser.Parse([strings]);

    [Theory]
    [InlineData("v=STSv1; id=1", "1")]
    [InlineData("v=STSv1;id=1", "1")]
    [InlineData("v=STSv1; id=1;", "1")]
    [InlineData("v=STSv1; id=1 ;", "1")]
    [InlineData("v=STSv1;\tid=1\t;\t", "1")]
    [InlineData("v=STSv1; id=20160831085700Z", "20160831085700Z")]
    [InlineData("v=STSv1; id=abcdefghijABCDEFGHIJ012345678901", "abcdefghijABCDEFGHIJ012345678901")] // 32
    [InlineData("v=STSv1; id=1; foo=bar", "1")]
    [InlineData("v=STSv1; foo=bar; id=1", "1")]
    [InlineData("v=STSv1; id=1; a_b-c.d=!\"#$%&'()*+,-./:<>?@[\\]^_`{|}~", "1")]
    [InlineData("v=STSv1; id=first; id=second", "first")]
    [InlineData("v=STSv1; id=first; id=not-an-id", "first")]
    [InlineData("v=STSv1; ID=x; id=real", "real")]
    [InlineData("v=STSv1 ; id=1", "1")]     // RFC 8461 §3.1: sts-field-delim = *WSP ";" *WSP
    [InlineData("v=STSv1\t;id=1", "1")]
    public void Valid(string record, string id)
    {
        var r = ParseOne(record);
        Assert.Equal(StsTxtStatus.Valid, r.Status);
        Assert.Equal(id, r.Id);
        Assert.Equal(record, r.Record);
        Assert.NotEmpty(r.Detail);
    }

    [Fact]
    public void SplitStringsAreJoinedWithoutSeparator()
    {
        var r = ParseOne("v=STSv1; id=", "abc123;");
        Assert.Equal(StsTxtStatus.Valid, r.Status);
        Assert.Equal("abc123", r.Id);
        Assert.Equal("v=STSv1; id=abc123;", r.Record);
    }

    [Fact]
    public void SplitInsidePrefixIsJoined()
    {
        var r = ParseOne("v=ST", "Sv1;", " id=7");
        Assert.Equal(StsTxtStatus.Valid, r.Status);
        Assert.Equal("7", r.Id);
    }

    [Fact]
    public void OtherRecordsAreDiscarded()
    {
        var r = StsTxtParser.Parse([["v=spf1 -all"], ["v=STSv1; id=1"]]);
        Assert.Equal(StsTxtStatus.Valid, r.Status);
        Assert.Equal("1", r.Id);
        Assert.Equal("v=STSv1; id=1", r.Record);
    }

    [Fact]
    public void TwoStsRecordsAreMultiple()
    {
        var r = StsTxtParser.Parse([["v=STSv1; id=1"], ["v=STSv1; id=2"], ["v=spf1 -all"]]);
        Assert.Equal(StsTxtStatus.Multiple, r.Status);
        Assert.Null(r.Id);
        Assert.Null(r.Record);
        Assert.Equal("2 TXT records start with v=STSv1; (exactly one allowed)", r.Detail);
    }

    [Fact]
    public void TwoStsRecordsAreMultipleEvenIfOneIsInvalid()
    {
        var r = StsTxtParser.Parse([["v=STSv1; id=1"], ["v=STSv1; junk"]]);
        Assert.Equal(StsTxtStatus.Multiple, r.Status);
    }

    [Theory]
    [InlineData("v=stsv1; id=1")]
    [InlineData("V=STSv1; id=1")]
    [InlineData(" v=STSv1; id=1")]
    [InlineData("v=STSv1")]
    [InlineData("v=STSv1:id=1")]
    [InlineData("v=STSv1 id=1")]
    [InlineData("v=STSv2; id=1")]
    public void NotStartingWithPrefixIsNoRecord(string record)
    {
        var r = StsTxtParser.Parse([["v=spf1 -all"], [record]]);
        Assert.Equal(StsTxtStatus.NoRecord, r.Status);
        Assert.Null(r.Id);
        Assert.Null(r.Record);
        Assert.Equal("2 TXT records, none starting with v=STSv1;", r.Detail);
    }

    [Fact]
    public void EmptyRrsetIsNoRecord()
    {
        var r = StsTxtParser.Parse([]);
        Assert.Equal(StsTxtStatus.NoRecord, r.Status);
        Assert.Equal("no TXT records", r.Detail);
    }

    [Fact]
    public void SingleNonStsRecordDetail()
    {
        var r = StsTxtParser.Parse([["v=spf1 -all"]]);
        Assert.Equal(StsTxtStatus.NoRecord, r.Status);
        Assert.Equal("1 TXT record, none starting with v=STSv1;", r.Detail);
    }

    [Theory]
    [InlineData("v=STSv1; id=abcdefghijABCDEFGHIJ0123456789012", "id has 33 characters (max 32)")]
    [InlineData("v=STSv1; id=2024-01-01", "id '2024-01-01' contains '-' (only letters and digits allowed)")]
    [InlineData("v=STSv1; id=", "id is empty")]
    [InlineData("v=STSv1; id=;", "id is empty")]
    [InlineData("v=STSv1; foo=bar", "id is missing")]
    [InlineData("v=STSv1; ID=1", "id is missing")]
    [InlineData("v=STSv1;", "no fields after v=STSv1")]
    [InlineData("v=STSv1; ", "no fields after v=STSv1")]
    [InlineData("v=STSv1; id=1; note=has space", "expected ';' at offset 24")]
    [InlineData("v=STSv1; id=1 2", "expected ';' at offset 14")]
    [InlineData("v=STSv1; id=1 ", "whitespace after the last field without ';'")]
    [InlineData("v=STSv1; id=1; foo", "field at offset 15 has no '='")]
    [InlineData("v=STSv1; id=1; foo=", "field 'foo' has an empty value")]
    [InlineData("v=STSv1; id=1; foo=a=b", "field 'foo' value contains '='")]
    [InlineData("v=STSv1; id=1; _x=1", "invalid field name '_x'")]
    [InlineData("v=STSv1; id=1; =1", "invalid field name ''")]
    [InlineData("v=STSv1; id=1; abcdefghijabcdefghijabcdefghijabc=1", "invalid field name 'abcdefghijabcdefghijabcdefghijabc'")]
    [InlineData("v=STSv1; id=1;; foo=bar", "invalid field name '; foo'")]
    [InlineData("v=STSv1; id=1; note=caf\u00e9", "non-ASCII or control character '\u00e9' at offset 23")]
    [InlineData("v=STSv1; id=\u00e91", "non-ASCII or control character '\u00e9' at offset 12")]
    [InlineData("v=STSv1; id=1\u0000", "non-ASCII or control character '\\x00' at offset 13")]
    [InlineData("v=STSv1; id=1; x=\u007f", "non-ASCII or control character '\\x7F' at offset 17")]
    public void Invalid(string record, string detail)
    {
        var r = ParseOne(record);
        Assert.Equal(StsTxtStatus.Invalid, r.Status);
        Assert.Null(r.Id);
        Assert.Equal(record, r.Record);
        Assert.Equal(detail, r.Detail);
    }
}
