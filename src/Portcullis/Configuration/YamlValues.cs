using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Portcullis.Configuration;

/// <summary>
/// Typed values from YAML nodes, read as the former YamlDotNet deserializer read them (YAML 1.1 booleans
/// and integers). A value that does not fit is reported and replaced by a placeholder (0, false, "",
/// an empty list) so reading goes on; the file is refused anyway, and the placeholder is not judged again.
/// </summary>
internal static class YamlValues
{
    public const string Mapping = "a mapping (key: value lines)";
    public const string Text = "a text value";
    public const string Boolean = "true or false";
    public const string Date = "a date (YYYY-MM-DD) or an ISO 8601 date and time";
    public const string List = "a list";
    public static readonly string Int32 = Integer(int.MinValue, int.MaxValue);
    public static readonly string Int64 = Integer(long.MinValue, long.MaxValue);

    private static string Integer(long min, long max) => $"an integer from {min} to {max}";

    public static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;

    /// <summary>An empty value, or <c>~</c> or <c>null</c> unquoted.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    /// <summary>Any scalar as text; empty: "".</summary>
    public static string ReadText(YamlNode node, string key, BindContext cx)
    {
        if (IsNull(node))
            return "";
        if (node is YamlScalarNode { Value: { } v })
            return v;
        cx.Wrong(node, key, Text);
        return "";
    }

    /// <summary>An integer within [min, max]; empty: 0.</summary>
    public static long ReadInteger(YamlNode node, string key, BindContext cx, long min, long max)
    {
        if (IsNull(node))
            return 0;
        if (node is YamlScalarNode { Value: { } v } && TryInteger(v, out long n) && n >= min && n <= max)
            return n;
        cx.Wrong(node, key, Integer(min, max));
        return 0;
    }

    /// <summary>A finite decimal number (1, 0.5); empty: 0.</summary>
    public static double ReadNumber(YamlNode node, string key, BindContext cx)
    {
        if (IsNull(node))
            return 0;
        if (node is YamlScalarNode { Value: { } v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            return d;
        cx.Wrong(node, key, "a number");
        return 0;
    }

    /// <summary>true/y/yes/on or false/n/no/off, any case; empty: null.</summary>
    public static bool? ReadBoolean(YamlNode node, string key, BindContext cx)
    {
        if (IsNull(node))
            return null;
        string? v = (node as YamlScalarNode)?.Value?.ToLowerInvariant();
        if (v is "true" or "y" or "yes" or "on")
            return true;
        if (v is "false" or "n" or "no" or "off")
            return false;
        cx.Wrong(node, key, Boolean);
        return null;
    }

    /// <summary>A date or date and time (kept in the kind it was written in: a trailing Z is UTC); empty: null.</summary>
    public static DateTime? ReadDate(YamlNode node, string key, BindContext cx)
    {
        if (IsNull(node))
            return null;
        if (node is YamlScalarNode { Value: { } v } && DateTime.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var d))
            return d;
        cx.Wrong(node, key, Date);
        return null;
    }

    /// <summary>A list of text values (an element that is no scalar is reported); empty: an empty list
    /// (but <c>~</c> is a value where a list belongs, as before).</summary>
    public static List<string> ReadList(YamlNode node, string key, BindContext cx)
    {
        if (node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" })
            return [];
        if (node is YamlSequenceNode seq)
            return [.. seq.Children.Select(e => ReadText(e, key, cx))];
        cx.Wrong(node, key, List); // also a single value: "listen: 127.0.0.1:25" is not silently a list
        return [];
    }

    /// <summary>
    /// YAML 1.1 integers as YamlDotNet 16 reads them: optional sign; <c>0x</c> hex, <c>0b</c> binary, other
    /// leading 0 octal; else decimal, with <c>:</c> separating base-60 digits (<c>1:30</c> is 90); '_' ignored.
    /// </summary>
    public static bool TryInteger(string text, out long value)
    {
        value = 0;
        int i = text.Length > 0 && text[0] is '-' or '+' ? 1 : 0;
        bool negative = i == 1 && text[0] == '-';
        if (i >= text.Length)
            return false;
        ulong magnitude = 0;
        if (text[i] == '0' && i < text.Length - 1)
        {
            int radix = text[i + 1] switch { 'b' => 2, 'x' => 16, _ => 8 };
            if (!TryRadix(text[(radix == 8 ? i + 1 : i + 2)..].Replace("_", "", StringComparison.Ordinal), radix, out magnitude))
                return false;
        }
        else if (text[i] != '0')
        {
            foreach (string chunk in text[i..].Split(':'))
            {
                if (!ulong.TryParse(chunk.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong c)
                    || magnitude > (ulong.MaxValue - c) / 60)
                    return false;
                magnitude = magnitude * 60 + c;
            }
        }
        if (negative && magnitude == 1UL << 63)
        {
            value = long.MinValue;
            return true;
        }
        if (magnitude > long.MaxValue)
            return false;
        value = negative ? -(long)magnitude : (long)magnitude;
        return true;
    }

    private static bool TryRadix(string digits, int radix, out ulong value)
    {
        value = 0;
        foreach (char ch in digits)
        {
            int d = char.IsAsciiDigit(ch) ? ch - '0' : char.IsAsciiHexDigit(ch) ? (ch | 0x20) - 'a' + 10 : 99;
            if (d >= radix || value > (ulong.MaxValue - (ulong)d) / (ulong)radix)
                return false;
            value = value * (ulong)radix + (ulong)d;
        }
        return digits.Length > 0;
    }
}
