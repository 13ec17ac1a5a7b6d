using System.Buffers;
using System.Text;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Protocol;

public sealed class NetstringTests
{
    private static FrameStatus Read(ReadOnlySequence<byte> data, out string payload, out long consumed, out FrameProblem error)
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
        Assert.Equal((payload, consumed, FrameError.None), (p, c, e.Code));
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
            Assert.Equal((0L, FrameError.None), (consumed, error.Code));
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
    [InlineData("01:a,", FrameError.LeadingZero)]
    [InlineData("a:", FrameError.NotADigit)]
    [InlineData(":", FrameError.EmptyLength)]
    [InlineData("-1:", FrameError.NotADigit)]
    [InlineData("1x:a,", FrameError.NotADigit)]
    [InlineData("1:ab", FrameError.MissingComma)]
    [InlineData("10001:", FrameError.TooLong)]
    [InlineData("1000000000:", FrameError.TooLong)]
    [InlineData("0000000000:", FrameError.LeadingZero)]
    public void Malformed_frames_are_invalid_with_a_code(string wire, FrameError code)
    {
        Assert.Equal(FrameStatus.Invalid, Read(Seq(wire), out _, out _, out var error));
        Assert.Equal(code, error.Code);
    }

    // One row per code: the text the log shows still says what is wrong.
    [Theory]
    [InlineData("01:a,", "length has a leading zero")]
    [InlineData("a:", "expected a length digit, got byte 0x61")]
    [InlineData("1x:a,", "unexpected byte 0x78 in length")]
    [InlineData(":", "empty length")]
    [InlineData("1:ab", "missing ',' after 1-byte payload (got 0x62)")]
    [InlineData("10001:", "length 10001+ exceeds the limit of 10000 bytes")]
    public void Malformed_frames_say_why(string wire, string detail)
    {
        Read(Seq(wire), out _, out _, out var error);
        Assert.Equal(detail, error.Detail);
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
