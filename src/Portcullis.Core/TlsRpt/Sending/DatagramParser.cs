using System.Text.Json;

namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>
/// Parses the JSON datagram libtlsrpt (linked into Postfix 3.10+) sends per delivery attempt:
/// <c>{"d":DOMAIN,"pr":TLSRPT-RECORD,"policies":[{"policy-type":1|2|9,"policy-domain":…,
/// "policy-string":[…],"mx-host":[…],"failure-details":[{"c":CODE,"s":…,"n":…,"h":…,"r":…,"a":…,"f":…}],
/// "t":NFAIL,"f":0|1}]}</c>, optionally with <c>"dpv":"1"</c>. Results are values; never throws.
/// </summary>
public static class DatagramParser
{
    /// <summary>libtlsrpt builds datagrams in a 65,000-byte buffer; anything larger is not from it.</summary>
    public const int MaxDatagramBytes = 65_536;
    private const int MaxPolicies = 32;
    private const int MaxFailures = 256;

    public static (SessionEvent? Event, string? Error) Parse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxDatagramBytes)
            return (null, $"datagram of {datagram.Length} bytes exceeds {MaxDatagramBytes}");
        return JsonInput.Parse(datagram, 8, Event);
    }

    private static (SessionEvent?, string?) Event(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return (null, "datagram is not a JSON object");
        if (root.TryGetProperty("dpv", out var dpv) && !(dpv.ValueKind == JsonValueKind.String && dpv.GetString() == "1"))
            return (null, $"unsupported datagram protocol version {dpv.GetRawText()} (only \"1\")");
        if (Str(root, "d") is not { } rawDomain || Domain(rawDomain) is not { } domain)
            return (null, "missing or invalid delivery domain \"d\"");
        if (!root.TryGetProperty("policies", out var policies) || policies.ValueKind != JsonValueKind.Array || policies.GetArrayLength() == 0)
            return (null, "missing or empty \"policies\"");
        if (policies.GetArrayLength() > MaxPolicies)
            return (null, $"more than {MaxPolicies} policies");
        var list = new List<SessionPolicy>();
        int i = 0;
        foreach (var p in policies.EnumerateArray())
        {
            var (policy, error) = Policy(p, domain);
            if (policy is null)
                return (null, $"policies[{i}]: {error}");
            list.Add(policy);
            i++;
        }
        return (new SessionEvent(domain, Str(root, "pr") ?? "", list), null);
    }

    private static (SessionPolicy?, string?) Policy(JsonElement p, string deliveryDomain)
    {
        if (p.ValueKind != JsonValueKind.Object)
            return (null, "not an object");
        if (Int(p, "policy-type") is not { } typeCode || ResultTypes.PolicyType(typeCode) is not { } type)
            return (null, "policy-type must be 1 (tlsa), 2 (sts) or 9 (no-policy-found)");
        if (Int(p, "f") is not { } final || final is not (0 or 1))
            return (null, "missing final result \"f\" (0 success, 1 failure)");
        // libtlsrpt omits policy-domain for no-policy-found (NULL): the delivery domain is meant.
        string policyDomain = Str(p, "policy-domain") is { } pd ? Domain(pd) ?? "" : deliveryDomain;
        if (policyDomain.Length == 0)
            return (null, "invalid policy-domain");
        var failures = new List<SessionFailure>();
        if (p.TryGetProperty("failure-details", out var details))
        {
            if (details.ValueKind != JsonValueKind.Array || details.GetArrayLength() > MaxFailures)
                return (null, $"failure-details must be an array of at most {MaxFailures}");
            foreach (var f in details.EnumerateArray())
            {
                if (f.ValueKind != JsonValueKind.Object || Int(f, "c") is not { } code)
                    return (null, "failure-details entry without numeric code \"c\"");
                failures.Add(new SessionFailure(ResultTypes.FromCode(code), Str(f, "s"), Str(f, "n"), Str(f, "h"), Str(f, "r"), Str(f, "a"), Str(f, "f")));
            }
        }
        // The final result decides how the session counts; details of a session that still
        // succeeded (libtlsrpt allows that) would contradict the summary, so they are dropped.
        bool failed = final == 1;
        return (new SessionPolicy(type, policyDomain, Strings(p, "policy-string"), Strings(p, "mx-host"), failed,
            failed ? failures : []), null);
    }

    private static string? Domain(string s)
    {
        string d = s.Trim().TrimEnd('.').ToLowerInvariant();
        return d.Length is > 0 and <= 253 && d.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') ? d : null;
    }

    private static string? Str(JsonElement e, string name) => JsonInput.Str(e, name);

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : null;

    private static IReadOnlyList<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)]
            : [];
}
