using System.Globalization;

namespace Portcullis.Core.Names;

/// <summary>Why a text is not a domain name.</summary>
public enum NameError
{
    None,
    Empty,
    TooLong,
    TooFewLabels,
    EmptyLabel,
    LabelTooLong,
    HyphenAtLabelEdge,
    InvalidCharacter,
    /// <summary>The last label is all digits: an IP address, not a name.</summary>
    Numeric,
    /// <summary>Non-ASCII text that IDNA2008/UTS 46 cannot map to A-labels.</summary>
    InvalidUnicode,
    /// <summary>An <c>xn--</c> label that does not decode and encode back to itself (RFC 5891 §5.4).</summary>
    InvalidPunycode,
}

/// <summary>A code for programs and tests, with the detail a person reads in logs and error lines.</summary>
public readonly record struct NameProblem(NameError Code, string Detail);

/// <summary>
/// A DNS domain name in the one form every part of Portcullis compares, stores and looks up: the canonical
/// A-label. Normalisation, in this order: lower-case (invariant); drop one trailing root dot; map non-ASCII
/// (U-labels) to A-labels (IdnMapping, STD3 rules); then require LDH syntax: labels of 1-63 letters, digits
/// and hyphens with no hyphen at either end, at most 253 characters, the last label not all digits, and every
/// <c>xn--</c> label valid punycode. Nothing else is changed: no trimming of spaces, no underscores.
/// (The daemon runs with invariant globalization, where IdnMapping encodes U-labels without the UTS 46
/// mapping and validation tables: a name with, say, a no-break space still becomes an A-label.)
/// </summary>
public readonly record struct DomainName
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };
    private readonly string? _value;

    private DomainName(string value) => _value = value;

    /// <summary>The canonical A-label text ("" for default).</summary>
    public string Value => _value ?? "";

    public override string ToString() => Value;

    public static bool TryParse(ReadOnlySpan<char> text, out DomainName name) => TryParse(text, out name, out _);

    /// <summary>Normalises <paramref name="text"/> (see the type); false with the reason when it is no domain name.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DomainName name, out NameProblem problem)
    {
        name = default;
        if (IsCanonical(text))
        {
            name = new DomainName(text.ToString());
            problem = default;
            return true;
        }
        string input = text.ToString();
        var lower = input.ToLowerInvariant();
        if (lower.EndsWith('.'))
            lower = lower[..^1];
        if (lower.Length == 0)
        {
            problem = new(NameError.Empty, $"no domain in '{input}'");
            return false;
        }
        if (lower.Any(c => c > '~'))
        {
            try
            {
                lower = Idn.GetAscii(lower);
            }
            catch (ArgumentException e)
            {
                // IdnMapping reports bad input only by exception; turn it into a value here.
                problem = new(NameError.InvalidUnicode, $"invalid internationalized name '{input}': {e.Message}");
                return false;
            }
        }
        problem = CheckSyntax(lower, minLabels: 1);
        if (problem.Code == NameError.None)
            problem = CheckALabels(lower);
        if (problem.Code != NameError.None)
            return false;
        name = new DomainName(lower);
        return true;
    }

    /// <summary>
    /// True exactly when <see cref="TryParse(ReadOnlySpan{char}, out DomainName, out NameProblem)"/> gives back
    /// <paramref name="text"/> unchanged. Allocation-free, except that a name with an <c>xn--</c> label is decoded.
    /// </summary>
    public static bool IsCanonical(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > 253)
            return false;
        bool digitsOnly = true;
        int labelStart = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == '.')
            {
                int length = i - labelStart;
                if (length is 0 or > 63 || text[labelStart] == '-' || text[i - 1] == '-')
                    return false;
                if (i < text.Length)
                    digitsOnly = true; // only the last label counts
                labelStart = i + 1;
                continue;
            }
            char c = text[i];
            if (c is >= 'a' and <= 'z' or '-')
                digitsOnly = false;
            else if (c is not (>= '0' and <= '9'))
                return false;
        }
        return !digitsOnly && (!text.Contains("xn--", StringComparison.Ordinal) || CheckALabels(text.ToString()).Code == NameError.None);
    }

    /// <summary>LDH syntax of an ASCII host name with at least <paramref name="minLabels"/> labels (see the type).</summary>
    public static NameProblem CheckSyntax(string host, int minLabels)
    {
        if (host.Length == 0)
            return new(NameError.Empty, "empty hostname");
        if (host.Length > 253)
            return new(NameError.TooLong, $"hostname has {host.Length} characters (max 253)");
        var labels = host.Split('.');
        if (labels.Length < minLabels)
            return new(NameError.TooFewLabels, $"hostname '{host}' needs at least {minLabels} labels");
        foreach (var label in labels)
        {
            if (label.Length == 0)
                return new(NameError.EmptyLabel, $"empty label in '{host}'");
            if (label.Length > 63)
                return new(NameError.LabelTooLong, $"label '{label}' has {label.Length} characters (max 63)");
            if (label[0] == '-' || label[^1] == '-')
                return new(NameError.HyphenAtLabelEdge, $"label '{label}' starts or ends with '-'");
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                    return new(NameError.InvalidCharacter, $"invalid character '{Show(c)}' in '{host}'");
            }
        }
        if (labels[^1].All(char.IsAsciiDigit))
            return new(NameError.Numeric, $"'{host}' is an IP address, not a hostname");
        return default;
    }

    // "xn--" labels must decode and encode back to themselves (RFC 5891 §5.4): a name such as xn--zz.test
    // is no domain anyone can have, and the DNS library throws on it, so it is refused like any invalid name.
    private static NameProblem CheckALabels(string name)
    {
        if (!name.Contains("xn--", StringComparison.Ordinal))
            return default;
        foreach (var label in name.Split('.'))
        {
            if (!label.StartsWith("xn--", StringComparison.Ordinal))
                continue;
            try
            {
                if (Idn.GetAscii(Idn.GetUnicode(label)) == label)
                    continue;
            }
            catch (ArgumentException)
            {
                // IdnMapping reports bad input only by exception; the answer below is the value.
            }
            return new(NameError.InvalidPunycode, $"invalid punycode label '{label}'");
        }
        return default;
    }

    /// <summary>Renders a character for an error message without emitting raw control bytes.</summary>
    private static string Show(char c) => c is < ' ' or '\x7f' ? $"\\x{(int)c:X2}" : c.ToString();
}
