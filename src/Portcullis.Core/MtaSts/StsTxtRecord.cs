using Portcullis.Core.Text;

namespace Portcullis.Core.MtaSts;

public enum StsTxtStatus { Valid, NoRecord, Invalid, Multiple }

/// <summary>
/// Outcome of reading the _mta-sts TXT RRset. Id is set only when Valid. Record is the joined
/// text of the single STSv1 candidate (Valid or Invalid), null otherwise. Detail is for logs.
/// </summary>
public sealed record StsTxtResult(StsTxtStatus Status, string? Id, string? Record, string Detail);

/// <summary>RFC 8461 §3.1 TXT record selection and validation. Pure; never throws on input.</summary>
public static class StsTxtParser
{
    // §3.1's grammar: sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    // with sts-field-delim = *WSP ";" *WSP, so WSP may precede the first ";": "v=STSv1 ; id=1"
    // is a valid record (mox's and postfix-tlspol's parsers accept it too). A candidate is
    // therefore "v=STSv1", optional WSP, then ";"; the prose's "v=STSv1;" is its common form.
    private const string Version = "v=STSv1";
    private const string Prefix = "v=STSv1;"; // for messages
    private const int MaxIdLength = 32;

    public static StsTxtResult Parse(IReadOnlyList<IReadOnlyList<string>> records)
    {
        var candidates = new List<string>();
        foreach (var strings in records)
        {
            // §3.1: the character-strings of one record are concatenated with no separator.
            var text = string.Concat(strings);
            if (IsCandidate(text))
            {
                candidates.Add(text);
            }
        }

        if (candidates.Count == 0)
        {
            var detail = records.Count == 0
                ? "no TXT records"
                : $"{Plural(records.Count, "TXT record")}, none starting with {Prefix}";
            return new(StsTxtStatus.NoRecord, null, null, detail);
        }
        if (candidates.Count > 1)
        {
            return new(StsTxtStatus.Multiple, null, null,
                $"{candidates.Count} TXT records start with {Prefix} (exactly one allowed)");
        }

        var record = candidates[0];
        var (id, error) = Validate(record);
        return error is null
            ? new(StsTxtStatus.Valid, id, record, $"id={id}")
            : new(StsTxtStatus.Invalid, null, record, error);
    }

    // sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    // sts-field-delim = *WSP ";" *WSP. Returns the first id, or an error.
    private static (string? Id, string? Error) Validate(string record)
    {
        for (var i = 0; i < record.Length; i++)
        {
            var c = record[i];
            if (c is < ' ' or > '~' && c != '\t')
            {
                return (null, $"non-ASCII or control character '{AsciiSyntax.Show(c)}' at offset {i}");
            }
        }

        string? id = null;
        var fields = 0;
        var pos = Version.Length; // the first delimiter (*WSP ";" *WSP) follows the version
        while (pos < record.Length)
        {
            // One delimiter: *WSP ";" *WSP.
            while (pos < record.Length && AsciiSyntax.IsWsp(record[pos]))
            {
                pos++;
            }
            if (pos == record.Length)
            {
                return (null, "whitespace after the last field without ';'");
            }
            if (record[pos] != ';')
            {
                return (null, $"expected ';' at offset {pos}");
            }
            pos++;
            while (pos < record.Length && AsciiSyntax.IsWsp(record[pos]))
            {
                pos++;
            }
            if (pos == record.Length)
            {
                break; // optional trailing delimiter
            }

            // One field: name "=" value, value ends at WSP, ';' or end.
            var eq = record.IndexOf('=', pos);
            if (eq < 0)
            {
                return (null, $"field at offset {pos} has no '='");
            }
            var name = record[pos..eq];
            if (!AsciiSyntax.IsFieldName(name))
            {
                return (null, $"invalid field name '{name}'");
            }
            var end = eq + 1;
            while (end < record.Length && record[end] != ';' && !AsciiSyntax.IsWsp(record[end]))
            {
                end++;
            }
            var value = record[(eq + 1)..end];
            fields++;

            // "id=" is case-sensitive; "ID=" is just an extension. A later duplicate id is ignored
            // (first wins, as mox and postfix-tlspol read §3.2) and only needs extension syntax.
            if (name == "id" && id is null)
            {
                if (value.Length == 0)
                {
                    return (null, "id is empty");
                }
                if (value.Length > MaxIdLength)
                {
                    return (null, $"id has {value.Length} characters (max {MaxIdLength})");
                }
                foreach (var ch in value)
                {
                    if (!AsciiSyntax.IsAlnum(ch))
                    {
                        return (null, $"id '{value}' contains '{ch}' (only letters and digits allowed)");
                    }
                }
                id = value;
            }
            else
            {
                // sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no '=', ';' or space.
                if (value.Length == 0)
                {
                    return (null, $"field '{name}' has an empty value");
                }
                if (value.Contains('='))
                {
                    return (null, $"field '{name}' value contains '='");
                }
            }
            pos = end;
        }

        if (fields == 0)
        {
            return (null, "no fields after v=STSv1");
        }
        return id is null ? (null, "id is missing") : (id, null);
    }

    private static bool IsCandidate(string text)
    {
        if (!text.StartsWith(Version, StringComparison.Ordinal))
        {
            return false;
        }
        var i = Version.Length;
        while (i < text.Length && AsciiSyntax.IsWsp(text[i]))
        {
            i++;
        }
        return i < text.Length && text[i] == ';';
    }

    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
