using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Cache;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;

namespace Portcullis.Resolution;

/// <summary>
/// A live resolution with all its evidence and the exact Postfix answers, as data: <c>query</c> renders it as
/// text or JSON, <c>cache show</c> compares its policy id with the cached one, and other views can reuse it.
/// </summary>
public sealed record QueryReport(Resolution Resolution, string Resolver, ResolverHealth.Snapshot SelfTest, string Query, string QueryRpt)
{
    /// <summary>The policy id the <c>_mta-sts</c> TXT record announces now, if it is valid.</summary>
    public string? LivePolicyId => Resolution.Sts?.Txt?.Id;

    /// <summary>Resolves <paramref name="domain"/> (an A-label) from scratch, with an empty cache of its own.</summary>
    public static async Task<QueryReport> ResolveAsync(Settings settings, string domain, CancellationToken ct)
    {
        var time = TimeProvider.System;
        var dns = settings.CreateResolver();
        using var fetcher = new PolicyFetcher(dns, settings.Fetch, time);
        await using var store = new MemoryPolicyStore();
        var health = new ResolverHealth(dns, time, NullLogger<ResolverHealth>.Instance);
        var selfTest = await health.CheckAsync(ct);
        var resolver = new PolicyResolver(dns, fetcher, store, new StsEngine(settings.Sts), settings.CreateDaneResolver(dns),
            health, time, NullLogger<PolicyResolver>.Instance);
        var r = await resolver.ResolveAsync(domain, ct);
        return new QueryReport(r, settings.DnsServer.ToString(), selfTest,
            AnswerRenderer.Render(r.Answer, false, settings.Render).ToString(), AnswerRenderer.Render(r.Answer, true, settings.Render).ToString());
    }
}
