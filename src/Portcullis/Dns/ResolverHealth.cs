using Microsoft.Extensions.Logging;
using Portcullis.Core.Dns;

namespace Portcullis.Dns;

/// <summary>
/// The resolver self-test: a validating resolver returns the signed root SOA with AD=1. Without
/// that, DANE verdicts would rest on unvalidated data, so Portcullis never answers dane-only.
/// </summary>
public sealed class ResolverHealth(IDnsResolver dns, TimeProvider time, ILogger<ResolverHealth> log)
{
    private volatile Snapshot _state = new(null, "not checked yet", DateTimeOffset.MinValue);

    public sealed record Snapshot(bool? Validates, string Detail, DateTimeOffset CheckedAt);

    public Snapshot State => _state;

    /// <summary>True only after a successful self-test; unknown counts as not validating.</summary>
    public bool Validates => _state.Validates == true;

    public async Task<Snapshot> CheckAsync(CancellationToken ct)
    {
        var soa = await dns.QuerySoaAsync(".", ct);
        Snapshot next;
        if (soa.Status == DnsStatus.Secure)
        {
            next = new Snapshot(true, $"root SOA validated (AD=1): {soa.Detail}", time.GetUtcNow());
        }
        else if (soa.IsError)
        {
            next = new Snapshot(false, $"resolver did not answer the root SOA: {soa.Detail}", time.GetUtcNow());
        }
        else
        {
            next = new Snapshot(false,
                "resolver does not validate DNSSEC (root SOA came back without the AD bit). DANE needs a local " +
                "validating resolver: install unbound (apt install unbound), keep its default trust anchor, and set " +
                "dns.server to 127.0.0.1 (or pass --dns). Until then no domain gets dane-only.", time.GetUtcNow());
        }
        if (next.Validates != _state.Validates)
        {
            if (next.Validates == true)
                log.LogInformation("Resolver self-test passed: {Detail}", next.Detail);
            else
                log.LogError("Resolver self-test FAILED: {Detail}", next.Detail);
        }
        _state = next;
        return next;
    }
}
