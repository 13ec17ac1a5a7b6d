namespace Portcullis.Core.Checking;

/// <summary>RFC 8461 §4.1: <c>*.example.com</c> matches exactly one extra label; other patterns match exactly.</summary>
public static class MxPatternMatch
{
    public static bool Matches(string pattern, string host)
    {
        pattern = pattern.TrimEnd('.').ToLowerInvariant();
        host = host.TrimEnd('.').ToLowerInvariant();
        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
            return pattern == host;
        int dot = host.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && host[(dot + 1)..] == pattern[2..];
    }

    public static bool Covered(IEnumerable<string> patterns, string host) => patterns.Any(p => Matches(p, host));
}
