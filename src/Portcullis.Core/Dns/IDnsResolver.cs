using System.Net;

namespace Portcullis.Core.Dns;

/// <summary>The project's resolver port (in Core, so use cases are testable without the host); DnsClient is one adapter behind it. Results are values, never exceptions.</summary>
public interface IDnsResolver
{
    /// <summary>TXT records of <paramref name="name"/>, each as its list of character-strings.</summary>
    Task<DnsResult<IReadOnlyList<string>>> QueryTxtAsync(string name, CancellationToken ct);

    /// <summary>A and AAAA records of <paramref name="host"/>, combined (for connecting).</summary>
    Task<DnsResult<IPAddress>> QueryAddressesAsync(string host, CancellationToken ct);

    Task<DnsResult<IPAddress>> QueryAAsync(string host, CancellationToken ct);

    Task<DnsResult<IPAddress>> QueryAaaaAsync(string host, CancellationToken ct);

    Task<DnsResult<MxRecord>> QueryMxAsync(string domain, CancellationToken ct);

    Task<DnsResult<TlsaRecord>> QueryTlsaAsync(string name, CancellationToken ct);

    /// <summary>SOA of <paramref name="zone"/>; the resolver self-test asks for the root's.</summary>
    Task<DnsResult<string>> QuerySoaAsync(string zone, CancellationToken ct);
}
