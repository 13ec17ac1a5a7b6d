using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Core.Text;

namespace Portcullis.Core.Protocol;

public enum NextHopKind { Domain, ParentRetry, AddressLiteral, Invalid }

/// <summary>
/// A classified smtp_tls_policy_maps key. Domain is the lowercase A-label policy domain for
/// Domain, the name without its leading dot for ParentRetry, the address text for
/// AddressLiteral, and "" for Invalid. Detail explains the classification for logs.
/// </summary>
public readonly record struct NextHop(NextHopKind Kind, string Domain, string Detail);

/// <summary>
/// Turns a Postfix TLS policy lookup key (a recipient domain or a transport next-hop, verbatim)
/// into the domain whose MTA-STS/DANE policy applies. Pure; never throws on input.
/// </summary>
public static class NextHopParser
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    public static NextHop Parse(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return Invalid("empty key");
        }
        if (key[0] == '.')
        {
            // tls_policy_lookup() retries ".parent" keys after a NOTFOUND; RFC 8461 §3.4 forbids
            // using a parent zone's policy, so these are answered NOTFOUND with no lookups.
            return new(NextHopKind.ParentRetry, key[1..].ToLowerInvariant(), "parent-domain retry key, not looked up");
        }

        string host;
        string detail;
        if (key[0] == '[')
        {
            var close = key.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return Invalid($"unbalanced '[' in '{key}'");
            }
            var rest = key[(close + 1)..];
            if (rest.Length > 0 && (rest[0] != ':' || !IsPort(rest[1..])))
            {
                return Invalid($"bad port suffix '{rest}' after ']'");
            }
            host = key[1..close];
            if (host.StartsWith("ipv6:", StringComparison.OrdinalIgnoreCase) || IsIpAddress(host))
            {
                // RFC 8461 §3.4 and RFC 7672 §2.2: no MTA-STS/DANE policy for address literals.
                return new(NextHopKind.AddressLiteral, host, "address literal next-hop, no policy applies");
            }
            // Design choice (as postfix-mta-sts-resolver, unlike postfix-tlspol's NOTFOUND):
            // a bracketed relay is a §3.4 "smart host", so its own policy applies.
            detail = $"next-hop [{host}]{rest}, applying host policy";
        }
        else if (IsIpAddress(key))
        {
            return new(NextHopKind.AddressLiteral, key, "IP address next-hop, no policy applies");
        }
        else
        {
            host = key;
            detail = "domain";
            var colon = key.LastIndexOf(':');
            if (colon >= 0)
            {
                if (!IsPort(key[(colon + 1)..]))
                {
                    return Invalid($"bad port in '{key}'");
                }
                host = key[..colon];
                detail = $"next-hop {key}, port ignored";
            }
        }

        var (domain, error) = ToALabel(host);
        return error is null ? new(NextHopKind.Domain, domain!, detail) : Invalid(error);
    }

    // Lowercase, drop one trailing root dot, map U-labels to A-labels, then check LDH syntax.
    private static (string? Domain, string? Error) ToALabel(string host)
    {
        var name = host.ToLowerInvariant();
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }
        if (name.Length == 0)
        {
            return (null, $"no domain in '{host}'");
        }
        if (name.Any(c => c > '~'))
        {
            try
            {
                name = Idn.GetAscii(name);
            }
            catch (ArgumentException e)
            {
                // IdnMapping reports bad input only by exception; turn it into a value here.
                return (null, $"invalid internationalized name '{host}': {e.Message}");
            }
        }
        var problem = AsciiSyntax.CheckHostname(name, minLabels: 1) ?? CheckALabels(name);
        return problem is null ? (name, null) : (null, problem);
    }

    // "xn--" labels must decode and encode back to themselves (RFC 5891 §5.4): a name such as xn--zz.test
    // is no domain anyone can have, and the DNS library throws on it, so it is refused like any invalid key.
    private static string? CheckALabels(string name)
    {
        if (!name.Contains("xn--", StringComparison.Ordinal))
            return null;
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
            return $"invalid punycode label '{label}'";
        }
        return null;
    }

    /// <summary>
    /// True exactly when <see cref="Parse"/> maps <paramref name="key"/> to itself as a Domain: lower-case LDH
    /// labels of 1-63 characters with no hyphen at either end, at most 253 in all, the last not all digits (an
    /// address), no root dot. The cache holds parsed domains only, so such a key may be looked up as it is.
    /// Allocation-free, except that a key with an <c>xn--</c> label is checked by <see cref="Parse"/> itself.
    /// </summary>
    public static bool IsCanonicalKey(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty || key.Length > 253)
            return false;
        bool digitsOnly = true;
        int labelStart = 0;
        for (int i = 0; i <= key.Length; i++)
        {
            if (i == key.Length || key[i] == '.')
            {
                int length = i - labelStart;
                if (length is 0 or > 63 || key[labelStart] == '-' || key[i - 1] == '-')
                    return false;
                if (i < key.Length)
                    digitsOnly = true;
                labelStart = i + 1;
                continue;
            }
            char c = key[i];
            if (c is >= 'a' and <= 'z' or '-')
                digitsOnly = false;
            else if (c is not (>= '0' and <= '9'))
                return false;
        }
        if (digitsOnly)
            return false;
        return !key.Contains("xn--", StringComparison.Ordinal) || Parse(key.ToString()) is { Kind: NextHopKind.Domain } hop && key.SequenceEqual(hop.Domain);
    }

    private static bool IsPort(string s) =>
        s.Length is > 0 and <= 5 && AsciiSyntax.AllDigits(s) && int.Parse(s, CultureInfo.InvariantCulture) is >= 1 and <= 65535;

    // Strict forms only: IPAddress.TryParse also accepts "1" or "0x7f.1" as IPv4, which are names.
    private static bool IsIpAddress(string s)
    {
        if (s.Contains(':'))
        {
            return IPAddress.TryParse(s, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6;
        }
        var parts = s.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && AsciiSyntax.AllDigits(p) && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    private static NextHop Invalid(string detail) => new(NextHopKind.Invalid, "", detail);
}
