using System.Net;

namespace Portcullis.Dns;

/// <summary>
/// Outcome of one DNS question as a value. "Secure" means the local validating resolver set the
/// AD bit; that bit is only trustworthy because the resolver is local and validating.
/// </summary>
public enum DnsStatus { Secure, Insecure, NxDomain, NoData, ServFail, Timeout }

public sealed record DnsResult<T>(DnsStatus Status, IReadOnlyList<T> Records, TimeSpan Ttl, bool Authenticated, string Detail)
{
    public bool HasRecords => Status is DnsStatus.Secure or DnsStatus.Insecure;
    public bool IsError => Status is DnsStatus.ServFail or DnsStatus.Timeout;
}

/// <summary>The project's resolver port; DnsClient is one adapter behind it.</summary>
public interface IDnsResolver
{
    /// <summary>TXT records of <paramref name="name"/>, each as its list of character-strings.</summary>
    Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct);

    /// <summary>A and AAAA records of <paramref name="host"/>.</summary>
    Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct);
}
