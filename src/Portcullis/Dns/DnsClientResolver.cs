using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Portcullis.Core.Dns;

namespace Portcullis.Dns;

/// <summary>
/// <see cref="IDnsResolver"/> over DnsClient: one configured resolver, DO bit set, no client-side
/// cache (the resolver caches; we cache decisions), TCP retry on truncation, explicit timeout and
/// bounded attempts.
/// </summary>
public sealed class DnsClientResolver : IDnsResolver
{
    private const int MaxCnameHops = 16;
    private readonly LookupClient _client;

    public DnsClientResolver(IPEndPoint server, TimeSpan timeout, int attempts)
    {
        Server = server;
        _client = new LookupClient(new LookupClientOptions(new NameServer(server))
        {
            UseCache = false,
            Timeout = timeout,
            Retries = Math.Max(0, attempts - 1),
            RequestDnsSecRecords = true,
            UseTcpFallback = true,
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            ContinueOnEmptyResponse = false,
            UseRandomNameServer = false,
        });
    }

    public IPEndPoint Server { get; }

    public Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct) =>
        QueryAsync(name, QueryType.TXT, r => r.OfType<TxtRecord>().Select(t => (IReadOnlyList<string>)t.Text.ToArray()), ct);

    public Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct) =>
        QueryAsync(host, QueryType.A, r => r.OfType<ARecord>().Select(x => x.Address), ct);

    public Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct) =>
        QueryAsync(host, QueryType.AAAA, r => r.OfType<AaaaRecord>().Select(x => x.Address), ct);

    public Task<DnsResult<Core.Dns.MxRecord>> QueryMxAsync(string domain, CancellationToken ct) =>
        QueryAsync(domain, QueryType.MX, r => r.OfType<DnsClient.Protocol.MxRecord>().Select(m => new Core.Dns.MxRecord(m.Preference, Trim(m.Exchange.Original))), ct);

    public Task<DnsResult<Core.Dns.TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct) =>
        QueryAsync(name, QueryType.TLSA, r => r.OfType<DnsClient.Protocol.TlsaRecord>().Select(t =>
            new Core.Dns.TlsaRecord((byte)t.CertificateUsage, (byte)t.Selector, (byte)t.MatchingType, [.. t.CertificateAssociationData])), ct);

    public Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct) =>
        QueryAsync(zone, QueryType.SOA, r => r.OfType<SoaRecord>().Select(s => Trim(s.MName.Original)), ct);

    public async Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct)
    {
        var a = QueryAAsync(host, ct);
        var aaaa = QueryAaaaAsync(host, ct);
        var (ra, r6) = (await a, await aaaa);
        if (ra.HasRecords && r6.HasRecords)
        {
            return ra with
            {
                Records = [.. ra.Records, .. r6.Records],
                Ttl = ra.Ttl < r6.Ttl ? ra.Ttl : r6.Ttl,
                Authenticated = ra.Authenticated && r6.Authenticated,
                Status = ra.Authenticated && r6.Authenticated ? DnsStatus.Secure : DnsStatus.Insecure,
            };
        }
        return ra.HasRecords ? ra : r6.HasRecords ? r6 : ra;
    }

    private async Task<DnsResult<T>> QueryAsync<T>(string name, QueryType type,
        Func<IEnumerable<DnsResourceRecord>, IEnumerable<T>> select, CancellationToken ct)
    {
        string q = $"{name} {type}";
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, ct);
        }
        catch (DnsResponseException ex) when (ex.Code == DnsResponseCode.ConnectionTimeout)
        {
            return new DnsResult<T>(DnsStatus.Timeout, [], TimeSpan.Zero, false, $"{q}: no answer from {Server} (timeout)");
        }
        catch (DnsResponseException ex)
        {
            return new DnsResult<T>(DnsStatus.ServFail, [], TimeSpan.Zero, false, $"{q}: {ex.Message}");
        }
        catch (ArgumentException)
        {
            // DnsClient decodes every name in the answer and throws on invalid punycode (an MX named xn--zz...):
            // an answer that cannot be read is a failed lookup, never an exception upwards.
            return new DnsResult<T>(DnsStatus.ServFail, [], TimeSpan.Zero, false, $"{q}: the answer holds a name that is not valid punycode");
        }

        bool ad = response.Header.IsAuthenticData;
        switch (response.Header.ResponseCode)
        {
            case DnsHeaderResponseCode.NoError:
                var (canonical, chain, error) = FollowCnames(Trim(name), response.Answers);
                if (error is not null)
                    return new DnsResult<T>(DnsStatus.ServFail, [], TimeSpan.Zero, false, $"{q}: {error}");
                var owned = response.Answers.Where(r => Trim(r.DomainName.Original) == canonical).ToArray();
                var records = select(owned).ToArray();
                string via = chain.Count > 0 ? $" via CNAME {string.Join(" -> ", chain)}" : "";
                if (records.Length == 0)
                {
                    return new DnsResult<T>(DnsStatus.NoData, [], NegativeTtl(response), ad, $"{q}: no data{via}{Sec(ad)}")
                    { CanonicalName = canonical };
                }
                var ttl = TimeSpan.FromSeconds(response.Answers.Min(r => r.TimeToLive));
                return new DnsResult<T>(ad ? DnsStatus.Secure : DnsStatus.Insecure, records, ttl, ad,
                    $"{q}: {records.Length} record(s){via}{Sec(ad)}")
                { CanonicalName = canonical };
            case DnsHeaderResponseCode.NotExistentDomain:
                return new DnsResult<T>(DnsStatus.NxDomain, [], NegativeTtl(response), ad, $"{q}: NXDOMAIN{Sec(ad)}");
            default:
                return new DnsResult<T>(DnsStatus.ServFail, [], TimeSpan.Zero, false,
                    $"{q}: {response.Header.ResponseCode} (validation failure or server error)");
        }
    }

    /// <summary>Walks the CNAME chain in an answer from the query name, detecting loops.</summary>
    private static (string Canonical, List<string> Chain, string? Error) FollowCnames(string qname, IReadOnlyList<DnsResourceRecord> answers)
    {
        var cnames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in answers.OfType<CNameRecord>())
            cnames[Trim(c.DomainName.Original)] = Trim(c.CanonicalName.Original);
        var chain = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { qname };
        string current = qname;
        while (cnames.TryGetValue(current, out var next))
        {
            if (!seen.Add(next) || chain.Count >= MaxCnameHops)
                return (current, chain, $"CNAME loop or chain longer than {MaxCnameHops} at {next}");
            chain.Add(next);
            current = next;
        }
        return (current, chain, null);
    }

    private static string Trim(string name) => name.TrimEnd('.').ToLowerInvariant();

    private static string Sec(bool ad) => ad ? ", DNSSEC-validated" : ", not DNSSEC-validated";

    // RFC 2308: negative answers live for min(SOA TTL, SOA MINIMUM).
    private static TimeSpan NegativeTtl(IDnsQueryResponse r)
    {
        var soa = r.Authorities.SoaRecords().FirstOrDefault();
        return soa is null ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(soa.TimeToLive, soa.Minimum));
    }
}
