using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Core.Names;
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

        // One normalisation for every domain Portcullis takes in (lower case, root dot, U-labels to A-labels, LDH).
        return DomainName.TryParse(host, out var domain, out var problem)
            ? new(NextHopKind.Domain, domain.Value, detail)
            : Invalid(problem.Detail);
    }

    /// <summary>
    /// True exactly when <see cref="Parse"/> maps <paramref name="key"/> to itself as a Domain: a canonical
    /// <see cref="DomainName"/> (no port, brackets, upper case or root dot). The cache holds parsed domains only,
    /// so such a key may be looked up as it is.
    /// </summary>
    public static bool IsCanonicalKey(ReadOnlySpan<char> key) => DomainName.IsCanonical(key);

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
