using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Dns;

namespace Portcullis.Resolution;

/// <summary>
/// Performs the DNS lookups <see cref="DaneDecision"/> asks for: MX, then the A/AAAA and TLSA of the
/// first <c>maxMxHosts</c> hosts in parallel, the whole answer bounded in time and in queries.
/// </summary>
public sealed class DaneResolver(IDnsResolver dns, TimeSpan budget, int maxMxHosts = int.MaxValue)
{
    /// <param name="trust">What the resolver's self-test lets the verdict rest on (<see cref="DaneDecision.UnderTrust"/>).</param>
    /// <param name="mxKnown">Completed with the MX verdict as soon as it is known (true: null MX), so the
    /// MTA-STS branch can skip its fetch for domains that accept no mail.</param>
    public async Task<DaneResult> ResolveAsync(string domain, ResolverTrust trust, TaskCompletionSource<bool>? mxKnown,
        CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(budget);
        try
        {
            var mx = await dns.QueryMxAsync(domain, cts.Token);
            var (hosts, mxSecure, final) = DaneDecision.ClassifyMx(domain, mx, maxMxHosts);
            mxKnown?.TrySetResult(final?.Verdict == DaneVerdict.NullMx);
            if (final is not null)
                return DaneDecision.UnderTrust(final, trust);
            var evidence = await Task.WhenAll(hosts.Select(h => ResolveHostAsync(h, mxSecure, cts.Token)));
            int skipped = mx.Records.Select(r => r.Exchange).Distinct(StringComparer.Ordinal).Count() - hosts.Count;
            return DaneDecision.UnderTrust(DaneDecision.Aggregate(mxSecure, mx.Ttl, mx.Detail, evidence,
                trust == ResolverTrust.Validating, Math.Max(0, skipped)), trust);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DaneResult(DaneVerdict.Temp, $"DANE lookups took longer than {budget.TotalSeconds:0.#} s", TimeSpan.Zero);
        }
        finally
        {
            mxKnown?.TrySetResult(false);
        }
    }

    private async Task<HostEvidence> ResolveHostAsync(string host, bool mxSecure, CancellationToken ct)
    {
        var a = dns.QueryAAsync(host, ct);
        var aaaa = dns.QueryAaaaAsync(host, ct);
        // Under a signed MX the host's own TLSA name is usually asked next: ask it alongside the
        // addresses (one round trip less). Used only where the sequence below asks that name anyway.
        var early = mxSecure ? dns.QueryTlsaAsync("_25._tcp." + host, ct) : null;
        // Its answer may go unused (no addresses, insecure addresses, a decision at the CNAME target).
        early?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        var (ra, r6) = (await a, await aaaa);
        var (final, bases) = DaneDecision.ClassifyAddress(host, ra, r6);
        if (final is not null)
            return final;
        var addressTtl = new[] { ra, r6 }.Where(r => r.HasRecords).Min(r => r.Ttl);
        List<string> lookups = [ra.Detail, r6.Detail];
        var negativeTtl = addressTtl;
        foreach (string b in bases)
        {
            string name = "_25._tcp." + b;
            var tlsa = early is not null && b == host ? await early : await dns.QueryTlsaAsync(name, ct);
            if (DaneDecision.ClassifyTlsa(host, name, tlsa, addressTtl, lookups) is { } decided)
                return decided;
            lookups.Add(tlsa.Detail);
            if (tlsa.Ttl < negativeTtl)
                negativeTtl = tlsa.Ttl;
        }
        return DaneDecision.NoTlsa(host, bases, negativeTtl, lookups);
    }
}
