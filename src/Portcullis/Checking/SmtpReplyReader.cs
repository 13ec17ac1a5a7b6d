using System.Text;

namespace Portcullis.Checking;

/// <summary>A peer broke the reply limits: the probe stops reading and reports this as the finding.</summary>
public sealed class SmtpLimitException(string message) : IOException(message);

/// <summary>
/// Reads SMTP replies with bounded memory. A hostile MX may send endless <c>250-</c> lines or a
/// greeting without a line break; without bounds that exhausted memory (issue 11). RFC 5321
/// §4.5.3.1.5 limits a reply line to 512 octets including CRLF; lines per reply and bytes per
/// probe are bounded too, far above what any real server sends.
/// </summary>
public sealed class SmtpReplyReader(Stream stream)
{
    public const int MaxLineOctets = 512;
    public const int MaxReplyLines = 100;
    public const int MaxProbeBytes = 64 * 1024;

    private readonly byte[] _buffer = new byte[4096];
    private int _start, _end;
    private long _total;

    /// <summary>Bytes read from the peer so far (all replies of this probe).</summary>
    public long TotalBytes => _total;

    /// <summary>The next complete reply: its code (0 if malformed) and its lines without CRLF.</summary>
    public async Task<(int Code, IReadOnlyList<string> Lines)> ReadReplyAsync(CancellationToken ct)
    {
        var lines = new List<string>();
        string line;
        do
        {
            if (lines.Count == MaxReplyLines)
                throw new SmtpLimitException($"protocol violation: reply has more than {MaxReplyLines} lines");
            line = await ReadLineAsync(ct);
            lines.Add(line);
        }
        while (line.Length > 3 && line[3] == '-');
        int code = line.Length >= 3 && int.TryParse(line.AsSpan(0, 3), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int c) ? c : 0;
        return (code, lines);
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                int n = await stream.ReadAsync(_buffer, ct);
                if (n == 0)
                    throw new IOException("connection closed");
                _start = 0;
                _end = n;
            }
            int nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int take = (nl < 0 ? _end : nl + 1) - _start;
            _total += take;
            if (line.Length + take > MaxLineOctets)
                throw new SmtpLimitException($"protocol violation: reply line longer than {MaxLineOctets} octets (RFC 5321 §4.5.3.1.5)");
            if (_total > MaxProbeBytes)
                throw new SmtpLimitException($"protocol violation: more than {MaxProbeBytes / 1024} KiB of replies");
            line.Write(_buffer, _start, take);
            _start += take;
            if (nl >= 0)
            {
                // Latin-1 keeps every byte as one char, so the printer can escape controls (C1 too).
                string text = Encoding.Latin1.GetString(line.GetBuffer(), 0, (int)line.Length);
                return text.TrimEnd('\n').TrimEnd('\r');
            }
        }
    }
}
