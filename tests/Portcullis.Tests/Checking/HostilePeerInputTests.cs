using System.Text;
using Portcullis.Checking;
using Portcullis.Core.Text;

namespace Portcullis.Tests.Checking;

/// <summary>Bounds on what an MX host can make `check` read, and escaping of what it prints (issue 11).</summary>
public sealed class HostilePeerInputTests
{
    private static SmtpReplyReader Reader(string s) => new(new MemoryStream(Encoding.Latin1.GetBytes(s)));

    [Fact]
    public async Task A_multiline_reply_is_read_with_its_code()
    {
        var (code, lines) = await Reader("250-mx.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n").ReadReplyAsync(CancellationToken.None);
        Assert.Equal(250, code);
        Assert.Equal(["250-mx.example", "250-STARTTLS", "250 8BITMIME"], lines);
    }

    [Theory]
    [InlineData(510, null)]   // 510 + CRLF = 512 octets: allowed
    [InlineData(511, "reply line longer than 512 octets")]
    public async Task Reply_lines_are_limited_to_512_octets(int length, string? error)
    {
        var reader = Reader("220 " + new string('a', length - 4) + "\r\n");
        if (error is null)
            Assert.Equal(220, (await reader.ReadReplyAsync(CancellationToken.None)).Code);
        else
            Assert.Contains(error, (await Assert.ThrowsAsync<SmtpLimitException>(() => reader.ReadReplyAsync(CancellationToken.None))).Message);
    }

    [Fact]
    public async Task Lines_per_reply_and_bytes_per_probe_are_limited()
    {
        string lines = string.Concat(Enumerable.Repeat("250-x\r\n", SmtpReplyReader.MaxReplyLines)) + "250 x\r\n";
        Assert.Contains("more than 100 lines",
            (await Assert.ThrowsAsync<SmtpLimitException>(() => Reader(lines).ReadReplyAsync(CancellationToken.None))).Message);

        string reply = "250-" + new string('x', 400) + "\r\n";
        var many = Reader(string.Concat(Enumerable.Repeat(string.Concat(Enumerable.Repeat(reply, 50)) + "250 x\r\n", 10)));
        var ex = await Assert.ThrowsAsync<SmtpLimitException>(async () =>
        {
            for (int i = 0; i < 10; i++)
                await many.ReadReplyAsync(CancellationToken.None);
        });
        Assert.Contains("more than 64 KiB", ex.Message);
        Assert.True(many.TotalBytes <= SmtpReplyReader.MaxProbeBytes + 4096);
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("\u001b[2Jclear", @"\x1b[2Jclear")]
    [InlineData("title\u001b]0;x\u0007", @"title\x1b]0;x\x07")]
    [InlineData("csi\u009b31m del\u007f", @"csi\x9b31m del\x7f")]
    [InlineData("a\r\nb\tc", @"a\x0d\x0ab\x09c")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData("ünïcode ok", "ünïcode ok")]
    public void Terminal_text_escapes_controls(string input, string expected) => Assert.Equal(expected, TerminalText.Escape(input));

    [Fact]
    public void Multi_line_text_keeps_its_line_breaks_and_escapes_the_rest() =>
        Assert.Equal("a\\x1b[2J\nb\nc", TerminalText.EscapeLines("a\u001b[2J\r\nb\nc"));
}
