namespace Portcullis.Core.Dns;

/// <summary>
/// Outcome of one DNS question as a value. "Secure" means the local validating resolver set the
/// AD bit; that bit is only trustworthy because the resolver is local and validating. A DNSSEC
/// validation failure (bogus) reaches us as SERVFAIL, so <see cref="ServFail"/> covers both.
/// </summary>
public enum DnsStatus { Secure, Insecure, NxDomain, NoData, ServFail, Timeout }

/// <param name="Authenticated">AD bit: for NXDOMAIN/NODATA it says the denial itself was validated.</param>
/// <param name="CanonicalName">The name the records belong to after CNAME expansion (lower case, no trailing dot).</param>
public sealed record DnsResult<T>(DnsStatus Status, IReadOnlyList<T> Records, TimeSpan Ttl, bool Authenticated, string Detail)
{
    public string? CanonicalName { get; init; }

    public bool HasRecords => Status is DnsStatus.Secure or DnsStatus.Insecure;
    public bool IsError => Status is DnsStatus.ServFail or DnsStatus.Timeout;
}

public readonly record struct MxRecord(int Preference, string Exchange);

public sealed record TlsaRecord(byte Usage, byte Selector, byte MatchingType, byte[] Data)
{
    public override string ToString() => $"{Usage} {Selector} {MatchingType} {Convert.ToHexString(Data).ToLowerInvariant()}";
}
