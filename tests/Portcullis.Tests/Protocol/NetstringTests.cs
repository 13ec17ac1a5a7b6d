using System.Buffers;
using System.Text;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Protocol;

public sealed class NetstringTests
{
    private static FrameStatus Read(ReadOnlySequence<byte> data, out string payload, out long consumed, out string? error)
    {
        var reader = new SequenceReader<byte>(data);
        var status = Netstring.TryRead(ref reader, Netstring.MaxRequestLength, out var body, out error);
        payload = Encoding.ASCII.GetString(body.ToArray());
        consumed = reader.Consumed;
        return status;
    }

    private static ReadOnlySequence<byte> Seq(string s) => new(Encoding.ASCII.GetBytes(s));

    /// <summary>A sequence made of many one-byte segments: every boundary a split read could produce.</summary>
    private static ReadOnlySequence<byte> Fragmented(string s)
    {
        var bytes = Encoding.ASCII.GetBytes(s);
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (int i = 1; i < bytes.Length; i++)
            last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Theory]
    [InlineData("0:,", "", 3)]
    [InlineData("5:hello,", "hello", 8)]
    [InlineData("17:QUERY example.com,", "QUERY example.com", 21)]
    [InlineData("5:hello,5:world,", "hello", 8)]
    public void Valid_frames(string wire, string payload, long consumed)
    {
        Assert.Equal(FrameStatus.Done, Read(Seq(wire), out var p, out var c, out var e));
        Assert.Equal((payload, consumed, null), (p, c, e));
    }

    [Theory]
    [InlineData("17:QUERY example.com,")]
    [InlineData("0:,")]
    public void Fragmented_frames_parse_the_same(string wire)
    {
        Assert.Equal(FrameStatus.Done, Read(Fragmented(wire), out var p, out var c, out _));
        Assert.Equal(wire[(wire.IndexOf(':') + 1)..^1], p);
        Assert.Equal(wire.Length, c);
    }

    [Fact]
    public void Every_prefix_needs_more_data_and_consumes_nothing()
    {
        const string wire = "17:QUERY example.com,";
        for (int n = 0; n < wire.Length; n++)
        {
            Assert.Equal(FrameStatus.NeedMoreData, Read(Seq(wire[..n]), out _, out var consumed, out var error));
            Assert.Equal((0L, null), (consumed, error));
        }
    }

    [Fact]
    public void Pipelined_frames_are_read_one_after_another()
    {
        var reader = new SequenceReader<byte>(Seq("3:one,3:two,5:three,2:"));
        var seen = new List<string>();
        while (Netstring.TryRead(ref reader, 100, out var body, out _) == FrameStatus.Done)
            seen.Add(Encoding.ASCII.GetString(body.ToArray()));
        Assert.Equal(["one", "two", "three"], seen);
        Assert.Equal(20, reader.Consumed); // the partial "2:" stays for the next read
    }

    [Theory]
    [InlineData("01:a,", "leading zero")]
    [InlineData("a:", "expected a length digit")]
    [InlineData(":", "empty length")]
    [InlineData("-1:", "expected a length digit")]
    [InlineData("1x:a,", "unexpected byte")]
    [InlineData("1:ab", "missing ','")]
    [InlineData("10001:", "exceeds the limit")]
    [InlineData("1000000000:", "exceeds the limit")]
    public void Malformed_frames_are_invalid_with_a_reason(string wire, string reason)
    {
        Assert.Equal(FrameStatus.Invalid, Read(Seq(wire), out _, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Exactly_the_maximum_length_is_accepted()
    {
        string body = new('a', Netstring.MaxRequestLength);
        Assert.Equal(FrameStatus.Done, Read(Seq($"{body.Length}:{body},"), out var p, out _, out _));
        Assert.Equal(body, p);
    }

    [Fact]
    public void Write_round_trips()
    {
        var w = new ArrayBufferWriter<byte>();
        Netstring.Write(w, "OK dane-only"u8);
        Assert.Equal("12:OK dane-only,", Encoding.ASCII.GetString(w.WrittenSpan));
        Assert.Equal(FrameStatus.Done, Read(new ReadOnlySequence<byte>(w.WrittenMemory), out var p, out _, out _));
        Assert.Equal("OK dane-only", p);
    }
}
