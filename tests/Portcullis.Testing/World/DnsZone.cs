namespace Portcullis.Testing.World;

/// <summary>
/// One zone of the test DNS world. Records are raw zone-file lines relative to the zone's $ORIGIN
/// ("@ MX 10 mx", "mx A 127.0.0.1", "x CNAME y.other.test."). SOA and NS are added automatically.
/// </summary>
public sealed class DnsZone
{
    private readonly List<string> _lines = [];

    internal DnsZone(string name, bool signed, bool bogusDs, bool expiredSignatures)
    {
        Name = DnsNames.Fqdn(name);
        Signed = signed;
        BogusDs = bogusDs;
        ExpiredSignatures = expiredSignatures;
    }

    /// <summary>Fully qualified, lower case, with trailing dot ("." for the root).</summary>
    public string Name { get; }

    public bool Signed { get; }

    /// <summary>The parent publishes a DS that matches no key of this zone, so validation yields bogus (SERVFAIL).</summary>
    public bool BogusDs { get; }

    /// <summary>All signatures expired in 2020, so validation yields bogus (SERVFAIL).</summary>
    public bool ExpiredSignatures { get; }

    public IReadOnlyList<string> Lines => _lines;

    /// <summary>Adds a raw zone-file line (owner relative to the zone unless it ends with a dot).</summary>
    public DnsZone Add(string line)
    {
        _lines.Add(line);
        return this;
    }

    public DnsZone A(string owner, string address = "127.0.0.1") => Add($"{owner} A {address}");

    public DnsZone Mx(string exchange, int preference = 10, string owner = "@") => Add($"{owner} MX {preference} {exchange}");

    public DnsZone Cname(string owner, string target) => Add($"{owner} CNAME {target}");

    /// <summary>Adds a TXT record; the text is quoted for you (no embedded quotes allowed).</summary>
    public DnsZone Txt(string owner, string text) => Add($"{owner} TXT \"{text}\"");

    /// <summary>The MTA-STS discovery record ("_mta-sts TXT "v=STSv1; id=..."") for the zone apex or a subdomain.</summary>
    public DnsZone MtaSts(string id = "1", string owner = "@") =>
        Txt(owner == "@" ? "_mta-sts" : "_mta-sts." + owner, $"v=STSv1; id={id}");

    /// <summary>A TLSA record, e.g. Tlsa("_25._tcp.mx", 3, 1, 1, "ab12...").</summary>
    public DnsZone Tlsa(string owner, int usage, int selector, int matchingType, string hexData) =>
        Add($"{owner} TLSA {usage} {selector} {matchingType} {hexData}");
}

internal static class DnsNames
{
    public static string Fqdn(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        return n is "" or "." ? "." : n.TrimEnd('.') + ".";
    }

    public static bool IsBelow(string child, string parent) =>
        child != parent && (parent == "." || child.EndsWith("." + parent, StringComparison.Ordinal));

    /// <summary>A file-name-safe token for a zone name.</summary>
    public static string FileToken(string zone) => zone == "." ? "root" : zone.TrimEnd('.');
}
