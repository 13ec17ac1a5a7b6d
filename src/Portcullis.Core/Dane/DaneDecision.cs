using Portcullis.Core.Dns;

namespace Portcullis.Core.Dane;

public enum HostDane
{
    /// <summary>Secure TLSA RRset with at least one usable record.</summary>
    Usable,
    /// <summary>Secure TLSA RRset, none usable: TLS still mandatory (RFC 7672 §2.2), Postfix `dane` → encrypt.</summary>
    Unusable,
    /// <summary>No DANE for this host (insecure address, no TLSA, TLSA in an unsigned zone).</summary>
    None,
    /// <summary>A lookup failed: the answer cannot be known now.</summary>
    Temp,
}

/// <summary>What was found for one MX host, with the evidence.</summary>
public sealed record HostEvidence(string Host, HostDane Dane, string Reason, TimeSpan Ttl)
{
    public string? TlsaName { get; init; }
    public IReadOnlyList<(TlsaRecord Record, string? Unusable)> Tlsa { get; init; } = [];
    public IReadOnlyList<string> Lookups { get; init; } = [];
}

public enum DaneVerdict { DaneOnly, Dane, None, NullMx, Temp }

/// <summary>The DANE branch's outcome for a domain.</summary>
public sealed record DaneResult(DaneVerdict Verdict, string Reason, TimeSpan Ttl)
{
    public bool MxSecure { get; init; }
    public string? MxDetail { get; init; }
    public IReadOnlyList<HostEvidence> Hosts { get; init; } = [];
    /// <summary>MX hosts beyond the examined cap (limits.max_mx_hosts).</summary>
    public int SkippedHosts { get; init; }
}

/// <summary>
/// RFC 7672 decisions as pure functions over DNS results. The adapter performs the lookups these
/// functions ask for; nothing here does I/O.
/// </summary>
public static class DaneDecision
{
    /// <summary>Below this, DANE results are still cached, so a flood of queries costs few lookups.</summary>
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(12);

    /// <summary>
    /// Step 1: the MX lookup. Returns the hosts to examine (at most <paramref name="maxHosts"/>, lowest
    /// preference first), or a final result. Postfix itself tries only the first smtp_mx_address_limit
    /// (default 5) addresses, so hosts beyond the cap are hosts it would not connect to; a verdict from the
    /// examined ones is never weaker for them either: dane-only makes Postfix demand TLSA at any host.
    /// </summary>
    public static (IReadOnlyList<string> Hosts, bool MxSecure, DaneResult? Final) ClassifyMx(string domain, DnsResult<MxRecord> mx,
        int maxHosts = int.MaxValue)
    {
        switch (mx.Status)
        {
            case DnsStatus.ServFail or DnsStatus.Timeout:
                return ([], false, new DaneResult(DaneVerdict.Temp,
                    $"MX lookup failed: {mx.Detail}; delivery must wait (RFC 7672 §2.1.2)", TimeSpan.Zero) { MxDetail = mx.Detail });
            case DnsStatus.NxDomain:
                return ([], false, new DaneResult(DaneVerdict.None, "domain does not exist (NXDOMAIN)", Clamp(mx.Ttl)) { MxDetail = mx.Detail });
            case DnsStatus.NoData when mx.Authenticated:
                // Implicit MX: the domain itself is the host (RFC 5321 §5.1, RFC 7672 §2.2.2).
                return ([mx.CanonicalName ?? domain], true, null);
            case DnsStatus.NoData:
                return ([], false, new DaneResult(DaneVerdict.None, "no MX records and the denial is not DNSSEC-signed", Clamp(mx.Ttl))
                { MxDetail = mx.Detail });
        }
        if (mx.Records.Any(r => r.Exchange.Length == 0))
        {
            return ([], mx.Authenticated, new DaneResult(DaneVerdict.NullMx,
                "null MX (RFC 7505): the domain accepts no mail", Clamp(mx.Ttl)) { MxSecure = mx.Authenticated, MxDetail = mx.Detail });
        }
        var hosts = mx.Records.OrderBy(r => r.Preference).Select(r => r.Exchange).Distinct(StringComparer.Ordinal).Take(maxHosts).ToList();
        return (hosts, mx.Status == DnsStatus.Secure, null);
    }

    /// <summary>
    /// Step 2: the host's A and AAAA lookups. Null means: look up TLSA at the returned names, in order
    /// (the CNAME-expanded name first when the chain is secure, then the original; RFC 7672 §2.3).
    /// </summary>
    public static (HostEvidence? Final, IReadOnlyList<string> TlsaBases) ClassifyAddress(string host,
        DnsResult<System.Net.IPAddress> a, DnsResult<System.Net.IPAddress> aaaa)
    {
        var lookups = new[] { a.Detail, aaaa.Detail };
        var usable = new[] { a, aaaa }.Where(r => r.HasRecords).ToList();
        var failed = new[] { a, aaaa }.Where(r => r.IsError).ToList();
        // One failed family is tolerated when the other is securely answered: the host is reachable
        // and the failure cannot hide TLSA (looked up separately). Both failing is a real error.
        if (usable.Count == 0 && failed.Count > 0)
            return (new HostEvidence(host, HostDane.Temp, $"address lookup failed: {failed[0].Detail}", TimeSpan.Zero) { Lookups = lookups }, []);
        if (usable.Count == 0)
            return (new HostEvidence(host, HostDane.None, "host has no address records", Clamp(Min(a.Ttl, aaaa.Ttl))) { Lookups = lookups }, []);
        if (failed.Count > 0 && usable.Any(r => r.Status != DnsStatus.Secure))
            return (new HostEvidence(host, HostDane.Temp, $"address lookup failed: {failed[0].Detail}", TimeSpan.Zero) { Lookups = lookups }, []);
        if (usable.Any(r => r.Status != DnsStatus.Secure))
        {
            return (new HostEvidence(host, HostDane.None,
                "address records are not DNSSEC-signed, so TLSA is not looked up (RFC 7672 §2.2.2)",
                Clamp(usable.Min(r => r.Ttl))) { Lookups = lookups }, []);
        }
        string? canonical = usable[0].CanonicalName;
        IReadOnlyList<string> bases = canonical is not null && canonical != host ? [canonical, host] : [host];
        return (null, bases);
    }

    /// <summary>Step 3: one TLSA lookup at <c>_25._tcp.BASE</c>. Null means: try the next base name.</summary>
    public static HostEvidence? ClassifyTlsa(string host, string tlsaName, DnsResult<TlsaRecord> tlsa, TimeSpan addressTtl,
        IReadOnlyList<string> lookups)
    {
        var ttl = Min(addressTtl, tlsa.Ttl);
        lookups = [.. lookups, tlsa.Detail];
        switch (tlsa.Status)
        {
            case DnsStatus.ServFail or DnsStatus.Timeout:
                return new HostEvidence(host, HostDane.Temp, $"TLSA lookup failed: {tlsa.Detail}", TimeSpan.Zero)
                { TlsaName = tlsaName, Lookups = lookups };
            case DnsStatus.Insecure:
                return new HostEvidence(host, HostDane.None, $"TLSA records at {tlsaName} are not DNSSEC-signed: ignored", Clamp(ttl))
                { TlsaName = tlsaName, Lookups = lookups };
            case DnsStatus.Secure:
                var evaluated = tlsa.Records.Select(r => (r, TlsaUsability.WhyUnusable(r))).ToList();
                bool any = evaluated.Any(e => e.Item2 is null);
                return new HostEvidence(host, any ? HostDane.Usable : HostDane.Unusable,
                    any ? $"{evaluated.Count(e => e.Item2 is null)} usable TLSA record(s) at {tlsaName}"
                        : $"TLSA records at {tlsaName} are all unusable: TLS required, not authenticated",
                    Clamp(ttl))
                { TlsaName = tlsaName, Tlsa = evaluated, Lookups = lookups };
            default:
                // NXDOMAIN / NODATA: secure ones are "no DANE here" (§2.2.2); insecure ones too.
                return null;
        }
    }

    public static HostEvidence NoTlsa(string host, IReadOnlyList<string> bases, TimeSpan ttl, IReadOnlyList<string> lookups) =>
        new(host, HostDane.None, $"no TLSA records at {string.Join(" or ", bases.Select(b => "_25._tcp." + b))}", Clamp(ttl))
        { Lookups = lookups };

    /// <summary>Step 4: the domain's verdict from every host.</summary>
    /// <param name="skipped">MX hosts beyond the cap of <see cref="ClassifyMx"/>, not examined.</param>
    public static DaneResult Aggregate(bool mxSecure, TimeSpan mxTtl, string? mxDetail, IReadOnlyList<HostEvidence> hosts,
        bool resolverValidates, int skipped = 0)
    {
        var ttl = Clamp(hosts.Select(h => h.Ttl).Append(mxTtl).Min());
        string note = skipped > 0 ? $" (the first {hosts.Count} by preference; {skipped} more not examined)" : "";
        DaneResult R(DaneVerdict v, string why) => new(v, why + note, v == DaneVerdict.Temp ? TimeSpan.Zero : ttl)
        { MxSecure = mxSecure, MxDetail = mxDetail, Hosts = hosts, SkippedHosts = skipped };

        if (hosts.FirstOrDefault(h => h.Dane == HostDane.Temp) is { } failed)
            return R(DaneVerdict.Temp, $"{failed.Host}: {failed.Reason}; DANE status unknown, delivery must wait");
        int withTlsa = hosts.Count(h => h.Dane is HostDane.Usable or HostDane.Unusable);
        if (withTlsa == 0)
            return R(DaneVerdict.None, "no MX host has DNSSEC-signed TLSA records");
        if (!resolverValidates)
            return R(DaneVerdict.Dane, "TLSA found, but the resolver failed its DNSSEC self-test: never dane-only on unvalidated data");
        if (!mxSecure)
            return R(DaneVerdict.Dane, $"{withTlsa} of {hosts.Count} MX host(s) have TLSA, but the MX records are not DNSSEC-signed (RFC 7672 §2.2.1)");
        if (hosts.All(h => h.Dane == HostDane.Usable))
            return R(DaneVerdict.DaneOnly, $"all {hosts.Count} MX host(s) have usable TLSA records");
        return R(DaneVerdict.Dane, $"{withTlsa} of {hosts.Count} MX host(s) have TLSA records; not all usable");
    }

    /// <summary>
    /// Step 5: the verdict as far as the resolver's self-test lets it stand. A resolver that cannot
    /// currently prove it validates makes every DANE state unknown, so the answer is TEMP: a weaker
    /// answer (dane, or none) for a dane-only domain would be a downgrade an outage could cause.
    /// A secure answer through a resolver whose self-test says it does not validate contradicts the
    /// self-test: TEMP until it is re-run.
    /// </summary>
    public static DaneResult UnderTrust(DaneResult result, ResolverTrust trust) => trust switch
    {
        ResolverTrust.Validating => result,
        _ when result.Verdict == DaneVerdict.Temp => result,
        ResolverTrust.Unproven => result with
        {
            Verdict = DaneVerdict.Temp,
            Reason = "the resolver cannot currently prove it validates DNSSEC (self-test failing); DANE status unknown, " +
                $"delivery must wait (lookups said: {result.Reason})",
            Ttl = TimeSpan.Zero,
        },
        _ when result.Verdict is DaneVerdict.DaneOnly or DaneVerdict.Dane || result.MxSecure || result.Hosts.Any(h => h.Tlsa.Count > 0) => result with
        {
            Verdict = DaneVerdict.Temp,
            Reason = "DNSSEC-signed answers from a resolver whose self-test says it does not validate: DANE status unknown " +
                $"until the self-test passes (lookups said: {result.Reason})",
            Ttl = TimeSpan.Zero,
        },
        _ => result,
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public static TimeSpan Clamp(TimeSpan ttl) => ttl < MinTtl ? MinTtl : ttl > MaxTtl ? MaxTtl : ttl;
}
