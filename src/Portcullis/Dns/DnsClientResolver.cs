using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Portcullis.Dns;

/// <summary>
/// <see cref="IDnsResolver"/> over DnsClient: one configured resolver, DO bit set, no client-side
/// cache (the resolver caches; we cache decisions), TCP retry on truncation, explicit timeout.
/// </summary>
public sealed class DnsClientResolver : IDnsResolver
{
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

    public async Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct)
    {
        var (response, error) = await QueryAsync(name, QueryType.TXT, ct);
        return Map(response, error, r => r.Answers.TxtRecords().Select(t => (IReadOnlyList<string>)t.Text.ToArray()));
    }

    public async Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct)
    {
        var a = QueryAsync(host, QueryType.A, ct);
        var aaaa = QueryAsync(host, QueryType.AAAA, ct);
        var ra = Map((await a).Response, (await a).Error, r => r.Answers.ARecords().Select(x => x.Address));
        var r6 = Map((await aaaa).Response, (await aaaa).Error, r => r.Answers.AaaaRecords().Select(x => x.Address));
        if (ra.HasRecords && r6.HasRecords)
        {
            return ra with
            {
                Records = [.. ra.Records, .. r6.Records],
                Ttl = ra.Ttl < r6.Ttl ? ra.Ttl : r6.Ttl,
                Authenticated = ra.Authenticated && r6.Authenticated,
            };
        }
        return ra.HasRecords ? ra : r6.HasRecords ? r6 : ra;
    }

    private async Task<(IDnsQueryResponse? Response, string? Error)> QueryAsync(string name, QueryType type, CancellationToken ct)
    {
        try
        {
            return (await _client.QueryAsync(name, type, QueryClass.IN, ct), null);
        }
        catch (DnsResponseException ex) when (ex.Code == DnsResponseCode.ConnectionTimeout)
        {
            return (null, $"timeout asking {Server} for {name} {type}");
        }
        catch (DnsResponseException ex)
        {
            return (null, $"{type} {name}: {ex.Message}");
        }
    }

    private static DnsResult<T> Map<T>(IDnsQueryResponse? response, string? error, Func<IDnsQueryResponse, IEnumerable<T>> select)
    {
        if (response is null)
        {
            var status = error!.StartsWith("timeout", StringComparison.Ordinal) ? DnsStatus.Timeout : DnsStatus.ServFail;
            return new DnsResult<T>(status, [], TimeSpan.Zero, false, error);
        }
        bool ad = response.Header.IsAuthenticData;
        string q = response.Questions.Count > 0 ? $"{response.Questions[0].QueryName} {response.Questions[0].QuestionType}" : "query";
        switch (response.Header.ResponseCode)
        {
            case DnsHeaderResponseCode.NoError:
                var records = select(response).ToArray();
                if (records.Length == 0)
                    return new DnsResult<T>(DnsStatus.NoData, [], NegativeTtl(response), ad, $"{q}: no data{Sec(ad)}");
                var ttl = TimeSpan.FromSeconds(response.Answers.Min(r => r.TimeToLive));
                return new DnsResult<T>(ad ? DnsStatus.Secure : DnsStatus.Insecure, records, ttl, ad,
                    $"{q}: {records.Length} record(s){Sec(ad)}");
            case DnsHeaderResponseCode.NotExistentDomain:
                return new DnsResult<T>(DnsStatus.NxDomain, [], NegativeTtl(response), ad, $"{q}: NXDOMAIN{Sec(ad)}");
            default:
                return new DnsResult<T>(DnsStatus.ServFail, [], TimeSpan.Zero, false,
                    $"{q}: {response.Header.ResponseCode} (SERVFAIL covers DNSSEC validation failures)");
        }
    }

    private static string Sec(bool ad) => ad ? ", DNSSEC-validated" : ", not DNSSEC-validated";

    // RFC 2308: negative answers live for min(SOA TTL, SOA MINIMUM).
    private static TimeSpan NegativeTtl(IDnsQueryResponse r)
    {
        var soa = r.Authorities.SoaRecords().FirstOrDefault();
        return soa is null ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(soa.TimeToLive, soa.Minimum));
    }
}
