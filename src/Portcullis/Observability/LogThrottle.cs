namespace Portcullis.Observability;

/// <summary>
/// At most one log line per interval for a condition any client can trigger at will (invalid keys,
/// unexpected errors), so a flood of such queries cannot flood the log. Counts what it held back.
/// </summary>
public sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;
    private long _suppressed;

    /// <summary>True when a line may be written now; <paramref name="suppressed"/> says how many were skipped since the last.</summary>
    public bool TryEnter(out long suppressed)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (now < _next)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }
            _next = now + interval;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }

    /// <summary>Untrusted text made safe for one log line: printable ASCII, at most 100 characters.</summary>
    public static string Printable(string text)
    {
        var chars = text.Length > 100 ? text[..100].ToCharArray() : text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (chars[i] is < ' ' or > '~')
                chars[i] = '?';
        }
        return new string(chars) + (text.Length > 100 ? "…" : "");
    }
}
