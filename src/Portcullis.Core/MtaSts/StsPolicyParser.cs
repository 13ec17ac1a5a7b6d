using System.Text;
using System.Text.Unicode;
using Portcullis.Core.Text;

namespace Portcullis.Core.MtaSts;

/// <summary>RFC 8461 §3.2 policy body parser. Pure; never throws on input.</summary>
public static class StsPolicyParser
{
    /// <summary>§3.3 suggested limit (64 KiB); larger bodies are rejected, not truncated.</summary>
    public const int MaxBodyBytes = 65536;

    /// <summary>§3.2 "maximum value of 31557600".</summary>
    public const long MaxMaxAge = 31557600;

    public static StsPolicyParseResult Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxBodyBytes)
        {
            return Fail(PolicyError.TooLarge, $"body is {body.Length} bytes (max {MaxBodyBytes})");
        }
        if (body is [0xEF, 0xBB, 0xBF, ..])
        {
            // A BOM is not part of the ABNF; it would otherwise glue itself onto the first key.
            return Fail(PolicyError.ByteOrderMark, "body starts with a UTF-8 byte order mark");
        }
        if (!Utf8.IsValid(body))
        {
            return Fail(PolicyError.NotUtf8, "body is not valid UTF-8");
        }

        // Lines end in LF or CRLF, mixed allowed (erratum 6253: sts-policy-term = LF / CRLF).
        var lines = Encoding.UTF8.GetString(body).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
        }

        // The ABNF allows one final line ending and no empty fields. We also tolerate any number
        // of trailing blank (or whitespace-only) lines, a harmless editor artefact; a blank line
        // before the last field is still invalid, as in postfix-tlspol.
        var count = lines.Length;
        while (count > 0 && lines[count - 1].AsSpan().Trim(" \t").IsEmpty)
        {
            count--;
        }
        if (count == 0)
        {
            return Fail(PolicyError.Empty, "policy is empty");
        }

        var state = new State();
        for (var i = 0; i < count; i++)
        {
            if (ParseLine(lines[i], i + 1, state) is { } problem)
            {
                return Fail(problem.Code, problem.Detail);
            }
        }
        return state.Finish();
    }

    private static Problem? ParseLine(string raw, int number, State state)
    {
        var line = raw.TrimEnd(' ', '\t'); // trailing WSP is allowed after every field
        if (line.Length == 0)
        {
            return new(PolicyError.BlankLine, $"line {number}: blank line inside the policy");
        }
        var colon = line.IndexOf(':');
        if (colon < 0)
        {
            return new(PolicyError.NoColon, $"line {number}: no ':' in '{Clip(line)}'");
        }
        var key = line[..colon];
        if (key.Length > 0 && AsciiSyntax.IsWsp(key[^1]))
        {
            return new(PolicyError.SpaceBeforeColon, $"line {number}: space before ':' in key '{key}'");
        }
        if (!AsciiSyntax.IsFieldName(key))
        {
            return new(PolicyError.InvalidKey, $"line {number}: invalid key '{Clip(key)}'");
        }
        var value = line[(colon + 1)..].TrimStart(' ', '\t'); // sts-policy-field-delim = ":" *WSP

        // Every line must be a well-formed field (sts-policy-ext-value: non-empty, no CTLs),
        // even an unknown key or an ignored duplicate; only the meaning of those is skipped.
        if (value.Length == 0)
        {
            return new(PolicyError.EmptyValue, $"line {number}: empty value for '{key}'");
        }
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return new(PolicyError.ControlCharacter, $"line {number}: control character '{AsciiSyntax.Show(c)}' in value of '{key}'");
            }
        }

        Problem? error = key switch
        {
            "version" when state.Version is null => ParseVersion(value, state),
            "mode" when state.Mode is null => ParseMode(value, state),
            "max_age" when state.MaxAge is null => ParseMaxAge(value, state),
            "mx" => ParseMx(value, state),
            _ => null, // unknown key (case-sensitive, so "Mode" too) or later duplicate: ignored
        };
        if (error is { } field)
        {
            return new(field.Code, $"line {number}: {field.Detail}");
        }
        state.Lines.Add($"{key}: {value}");
        return null;
    }

    private static Problem? ParseMode(string value, State state)
    {
        state.Mode = value switch
        {
            "enforce" => StsMode.Enforce,
            "testing" => StsMode.Testing,
            "none" => StsMode.None,
            _ => null,
        };
        return state.Mode is null ? new(PolicyError.InvalidMode, $"mode must be enforce, testing or none (case-sensitive), got '{Clip(value)}'") : null;
    }

    // 1*10DIGIT and at most 31557600. Larger values are rejected rather than clamped (strict, as
    // postfix-mta-sts-resolver; erratum 7282 is only reported): a sender that misstates max_age
    // has a broken policy, and clamping would hide that from the checker.
    private static Problem? ParseMaxAge(string value, State state)
    {
        if (value.Length > 10 || !AsciiSyntax.AllDigits(value))
        {
            return new(PolicyError.InvalidMaxAge, $"max_age must be 1 to 10 digits, got '{Clip(value)}'");
        }
        var seconds = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        if (seconds > MaxMaxAge)
        {
            return new(PolicyError.InvalidMaxAge, $"max_age {seconds} exceeds {MaxMaxAge}");
        }
        state.MaxAge = seconds;
        return null;
    }

    // mx = ["*."] hostname; A-labels only; the wildcard may only be the whole left-most label.
    private static Problem? ParseMx(string value, State state)
    {
        var host = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        if (host.Length == 0)
        {
            return new(PolicyError.InvalidMx, "mx '*.' has no domain");
        }
        foreach (var c in host)
        {
            if (c > '~')
            {
                return new(PolicyError.InvalidMx, $"mx '{Clip(value)}' is not ASCII (use the A-label form)");
            }
        }
        var problem = AsciiSyntax.CheckHostname(host, minLabels: 2);
        if (problem is not null)
        {
            return new(PolicyError.InvalidMx, $"invalid mx '{Clip(value)}': {problem}");
        }
        state.Mx.Add(value.ToLowerInvariant());
        return null;
    }

    private static Problem? ParseVersion(string value, State state)
    {
        state.Version = value == "STSv1" ? value : null;
        return state.Version is null ? new(PolicyError.InvalidVersion, $"version must be 'STSv1', got '{Clip(value)}'") : null;
    }

    private static string Clip(string s) => s.Length <= 64 ? s : s[..64] + "...";

    private static StsPolicyParseResult Fail(PolicyError code, string error) => new(null, error) { Code = code };

    private readonly record struct Problem(PolicyError Code, string Detail);

    private sealed class State
    {
        public string? Version;
        public StsMode? Mode;
        public long? MaxAge;
        public readonly List<string> Mx = [];
        public readonly List<string> Lines = [];

        public StsPolicyParseResult Finish()
        {
            var missing = new List<string>();
            if (Version is null)
            {
                missing.Add("version");
            }
            if (Mode is null)
            {
                missing.Add("mode");
            }
            if (MaxAge is null)
            {
                missing.Add("max_age");
            }
            if (missing.Count > 0)
            {
                return Fail(PolicyError.MissingField, $"missing required field(s): {string.Join(", ", missing)}");
            }
            if (Mx.Count == 0 && Mode != StsMode.None)
            {
                return Fail(PolicyError.NoMx, $"no mx (required unless mode is none; mode is {StsModeNames.ToWire(Mode!.Value)})");
            }
            return new(new StsPolicy(Mode!.Value, MaxAge!.Value, Mx, Lines), null);
        }
    }
}
