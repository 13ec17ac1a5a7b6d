using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Resolution;

namespace Portcullis.Hosting;

/// <summary>A resolver built for one question, with nothing cached: what <c>query</c> and <c>cache show</c> compare against.</summary>
public static class LiveResolution
{
    /// <summary>Resolves <paramref name="domain"/> (an A-label) from scratch, with an empty cache of its own.</summary>
    public static async Task<QueryReport> ResolveAsync(Settings settings, string domain, CancellationToken ct)
    {
        var time = TimeProvider.System;
        var dns = settings.CreateResolver();
        using var fetcher = new PolicyFetcher(dns, settings.Fetch, time);
        await using var store = Storage.PolicyStore.InMemory();
        var health = new ResolverHealth(dns, time, NullLogger<ResolverHealth>.Instance);
        var selfTest = await health.CheckAsync(ct);
        var guarded = new Storage.GuardedPolicyStore(store, time, NullLogger<Storage.GuardedPolicyStore>.Instance);
        var resolver = new PolicyResolver(dns, fetcher, guarded, new PolicyMemory(), new StsEngine(settings.Sts), settings.CreateDaneResolver(dns),
            health, time, NullLogger<PolicyResolver>.Instance);
        var r = await resolver.ResolveAsync(domain, ct);
        return new QueryReport(r, settings.DnsServer.ToString(), selfTest,
            AnswerRenderer.Render(r.Answer, false, settings.Render).ToString(), AnswerRenderer.Render(r.Answer, true, settings.Render).ToString());
    }
}
