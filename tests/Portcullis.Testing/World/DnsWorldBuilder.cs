using System.Text;

namespace Portcullis.Testing.World;

/// <summary>
/// Declares the zones of a DNSSEC test hierarchy. The signed root "." and signed TLD "test." always exist;
/// every declared zone is delegated from its closest declared ancestor (else the root), with DS when signed.
/// </summary>
public sealed class DnsWorldBuilder
{
    /// <summary>Name server name used in all NS records; resolves to 127.0.0.1 (only the stub ports matter).</summary>
    public const string NameServer = "ns.test.";

    private readonly Dictionary<string, DnsZone> _zones = new(StringComparer.Ordinal);

    public DnsWorldBuilder()
    {
        Zone(".");
        Zone("test.").A("ns");
    }

    /// <summary>Declares a zone, or returns the already declared one (e.g. Zone("test") to add records to the TLD).</summary>
    public DnsZone Zone(string name, bool signed = true, bool bogusDs = false, bool expiredSignatures = false)
    {
        var fqdn = DnsNames.Fqdn(name);
        if (_zones.TryGetValue(fqdn, out var existing))
            return existing;
        if (fqdn == "." && (!signed || bogusDs || expiredSignatures))
            throw new ArgumentException("The root zone is the trust anchor and must be validly signed.");
        if ((bogusDs || expiredSignatures) && !signed)
            throw new ArgumentException("bogusDs/expiredSignatures only make sense for signed zones.");
        var zone = new DnsZone(fqdn, signed, bogusDs, expiredSignatures);
        _zones.Add(fqdn, zone);
        return zone;
    }

    /// <summary>Fixed resolver port, e.g. 53 inside a network namespace whose resolv.conf points at it (for Postfix).</summary>
    public int? ResolverPort { get; set; }

    /// <summary>A second resolver address on port 53 (e.g. 127.53.x.y), for a resolv.conf outside a network namespace.</summary>
    public System.Net.IPAddress? ResolverAddress53 { get; set; }

    public Task<DnsWorld> StartAsync(CancellationToken ct = default) => DnsWorld.StartAsync(_zones.Values.ToList(), ResolverPort, ct, ResolverAddress53);

    internal static DnsZone? ParentOf(DnsZone zone, IEnumerable<DnsZone> all) =>
        zone.Name == "." ? null : all.Where(p => DnsNames.IsBelow(zone.Name, p.Name)).MaxBy(p => p.Name.Length);

    internal static string ZoneFileText(DnsZone zone, IEnumerable<string> extraLines)
    {
        var sb = new StringBuilder();
        sb.Append("$ORIGIN ").Append(zone.Name).Append('\n');
        sb.Append("$TTL 30\n");
        // Negative TTL (last SOA field) small, so NXDOMAIN is not cached for long.
        sb.Append("@ SOA ").Append(NameServer).Append(" hostmaster.test. 1 3600 600 86400 5\n");
        sb.Append("@ NS ").Append(NameServer).Append('\n');
        foreach (var line in zone.Lines.Concat(extraLines))
            sb.Append(line).Append('\n');
        return sb.ToString();
    }
}
