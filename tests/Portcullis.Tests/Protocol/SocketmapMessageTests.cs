using System.Buffers;
using System.Text;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Protocol;

public sealed class SocketmapMessageTests
{
    [Theory]
    [InlineData("QUERY example.com", "QUERY", "example.com")]
    [InlineData("QUERYwithTLSRPT [mx.example.com]:587", "QUERYwithTLSRPT", "[mx.example.com]:587")]
    [InlineData("QUERY ", "QUERY", "")]
    public void Requests_split_at_the_first_space(string payload, string map, string key)
    {
        Assert.True(SocketmapRequest.TryParse(Encoding.UTF8.GetBytes(payload), out var r, out var e));
        Assert.Equal((map, key, RequestError.None), (r.MapName, r.Key, e));
        Assert.True(SocketmapRequest.TrySplit(payload, out var m, out var k, out var se));
        Assert.Equal((map, key, RequestError.None), (m.ToString(), k.ToString(), se));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'Q', (byte)'U', (byte)'E', (byte)'R', (byte)'Y' }, RequestError.NoSpace, "no space")]
    [InlineData(new byte[] { (byte)' ', (byte)'x' }, RequestError.EmptyMapName, "empty map name")]
    [InlineData(new byte[] { (byte)'Q', (byte)' ', 0xC3, 0x28 }, RequestError.NotUtf8, "not valid UTF-8")]
    [InlineData(new byte[] { 0xC3, 0x28 }, RequestError.NoSpace, "no space")] // the split is judged first
    public void Malformed_requests(byte[] payload, RequestError code, string text)
    {
        Assert.False(SocketmapRequest.TryParse(payload, out _, out var e));
        Assert.Equal(code, e);
        Assert.Contains(text, SocketmapRequest.Describe(e)); // the text Postfix's log shows stays sensible
    }

    [Fact]
    public void Long_requests_decode_like_short_ones()
    {
        string key = new('a', 9_000);
        Assert.True(SocketmapRequest.TryParse(Encoding.UTF8.GetBytes("QUERY " + key), out var r, out _));
        Assert.Equal(("QUERY", key), (r.MapName, r.Key));
    }

    public static TheoryData<string, string> Replies => new()
    {
        { SocketmapReply.NotFound.ToString(), "NOTFOUND " },
        { SocketmapReply.Ok("dane-only").ToString(), "OK dane-only" },
        { SocketmapReply.Temp("dns timeout").ToString(), "TEMP dns timeout" },
        { SocketmapReply.Perm("bad map").ToString(), "PERM bad map" },
        { SocketmapReply.Ok("").ToString(), "TEMP internal error: empty policy" },
        { SocketmapReply.Temp("line1\nline2\tx").ToString(), "TEMP line1 line2 x" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void Reply_forms(string actual, string expected) => Assert.Equal(expected, actual);

    [Fact]
    public void Whitespace_only_ok_data_is_never_sent() =>
        Assert.Equal(ReplyStatus.Temp, SocketmapReply.Ok(" \t ").Status);

    [Fact]
    public void Replies_over_100000_bytes_become_temp_and_the_limit_itself_is_ok()
    {
        string fits = new('x', Netstring.MaxReplyLength - 3); // "OK " + data = exactly the limit
        Assert.Equal(ReplyStatus.Ok, SocketmapReply.Ok(fits).Status);
        var over = SocketmapReply.Ok(fits + "x");
        Assert.Equal(ReplyStatus.Temp, over.Status);
        Assert.Equal("policy reply exceeds 100000 bytes", over.Data);
    }

    [Fact]
    public void Replies_are_written_as_one_netstring()
    {
        var w = new ArrayBufferWriter<byte>();
        SocketmapReply.NotFound.WriteTo(w);
        SocketmapReply.Ok(new string('a', 5000)).WriteTo(w); // larger than the stack buffer
        string wire = Encoding.ASCII.GetString(w.WrittenSpan);
        Assert.StartsWith("9:NOTFOUND ,5003:OK aaaa", wire);
        Assert.EndsWith("a,", wire);
        Assert.Equal(12 + 5 + 5003 + 1, wire.Length);
    }
}
