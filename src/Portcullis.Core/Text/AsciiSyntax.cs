namespace Portcullis.Core.Text;

/// <summary>Small ASCII character-class helpers shared by the RFC 8461 / next-hop parsers.</summary>
internal static class AsciiSyntax
{
    public static bool IsAlpha(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
    public static bool IsDigit(char c) => c is >= '0' and <= '9';
    public static bool IsAlnum(char c) => IsAlpha(c) || IsDigit(c);
    public static bool IsWsp(char c) => c is ' ' or '\t';

    /// <summary>
    /// RFC 8461 field/key name: (ALPHA/DIGIT) 0*31(ALPHA/DIGIT/"_"/"-"/"."). Used by both the
    /// TXT record extension names and the policy file keys.
    /// </summary>
    public static bool IsFieldName(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 32 || !IsAlnum(s[0]))
        {
            return false;
        }
        foreach (var c in s[1..])
        {
            if (!IsAlnum(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool AllDigits(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!IsDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Checks LDH hostname syntax: labels of 1-63 letters/digits/hyphens, no leading or trailing
    /// hyphen, total length at most 253, last label not all digits (that is an IP address, not a
    /// name). Returns null when valid, else a short reason. Underscores are rejected.
    /// </summary>
    public static string? CheckHostname(string host, int minLabels) =>
        Names.DomainName.CheckSyntax(host, minLabels) is { Code: not Names.NameError.None } p ? p.Detail : null;

    /// <summary>Renders a character for an error message without emitting raw control bytes.</summary>
    public static string Show(char c) => c is < ' ' or '\x7f' ? $"\\x{(int)c:X2}" : c.ToString();
}
