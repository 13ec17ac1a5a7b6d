using Microsoft.Extensions.Logging;
using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Observability;
using Portcullis.Hosting.Jobs;
using Portcullis.Storage;

namespace Portcullis.Resolution;

/// <summary>
/// Resolves one domain: the DANE branch and the MTA-STS branch in parallel, combined with DANE
/// first. Fresh cached results answer from memory; concurrent queries for a domain share one
/// resolution; a persistent store keeps results across restarts.
/// </summary>
public sealed class PolicyResolver(IDnsResolver dns, IPolicyFetcher fetcher, GuardedPolicyStore store, PolicyMemory memory,
    StsEngine engine, DaneResolver daneResolver, ResolverHealth health, TimeProvider time, ILogger<PolicyResolver> log)
{
    private readonly SingleFlight<string, Resolution> _flights = new(StringComparer.Ordinal);

    /// <summary>Resolves <paramref name="domain"/> (an A-label, lower case).</summary>
    public Task<Resolution> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        memory.Count(domain, now);
        if (memory.TryAnswerable(domain, now, out var m))
            return Task.FromResult(m.ToResolution(engine, now));
        // Shared, so one caller's cancellation (Postfix hanging up) does not cancel the others.
        return _flights.RunDetachedAsync(domain, d => ResolveCoreAsync(d, TimeSpan.Zero, CancellationToken.None), ct);
    }

    /// <summary>The answer memory holds for a domain right now, without counting it as a query.</summary>
    public Verdict? CachedVerdict(string domain)
    {
        var now = time.GetUtcNow();
        return memory.TryAnswerable(domain, now, out var m) ? m.ToResolution(engine, now).Answer.Verdict : null;
    }

    /// <summary>
    /// Proactive refresh: resolves as if <paramref name="ahead"/> had already passed, so results
    /// about to expire are renewed before a query has to wait for them. Joins a live query already resolving it.
    /// </summary>
    public Task<Resolution> RefreshAsync(string domain, TimeSpan ahead, CancellationToken ct) =>
        _flights.RunAsync(domain, (d, token) => ResolveCoreAsync(d, ahead, token), ct);

    private async Task<Resolution> ResolveCoreAsync(string domain, TimeSpan ahead, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var daneEntry = await LoadDaneAsync(domain, now + ahead, ct);
        var stsEntry = await LoadStsAsync(domain, now + ahead, ct);

        bool daneFresh = daneEntry is not null && now + ahead < daneEntry.ExpiresAt;
        if (daneFresh && daneEntry!.Verdict != DaneVerdict.None)
        {
            var cached = daneEntry.ToResult(now);
            return new Resolution(domain, PolicyCombiner.Combine(cached, PolicyAnswer.NoPolicy("")), true)
            { Dane = cached, DaneFromCache = true };
        }

        // Fresh lookups rest on the resolver's self-test: while it fails it is re-run first, so a
        // recovered resolver is trusted at once, and an unproven one yields TEMP, never a weaker answer.
        var trust = daneFresh ? ResolverTrust.Validating : await health.TrustAsync(ct);
        var mxKnown = daneFresh ? null : new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var daneTask = daneFresh
            ? Task.FromResult(daneEntry!.ToResult(now))
            : daneResolver.ResolveAsync(domain, trust, mxKnown, ct);
        var stsTask = ResolveStsAsync(domain, stsEntry, mxKnown?.Task ?? Task.FromResult(false), ahead, ct);
        var dane = await daneTask;
        var sts = await stsTask;

        if (!daneFresh)
        {
            // A verdict computed while the self-test fails is never cached: it would outlive the outage.
            if (trust == ResolverTrust.Validating && DaneCacheEntry.From(domain, dane, time.GetUtcNow()) is { } fresh)
            {
                memory.Set(fresh);
                await store.SaveAsync(daneEntry, fresh, ct);
            }
            else if (dane.Verdict == DaneVerdict.Temp)
            {
                log.LogWarning("{Domain}: DANE lookup failed, answering TEMP: {Reason}", domain, dane.Reason);
                health.Suspect();
            }
        }
        var answer = PolicyCombiner.Combine(dane, sts.Answer);
        // A proactive refresh (ahead > 0) is routine: RefreshService logs it at information only when the answer changes.
        log.Log(ahead > TimeSpan.Zero ? LogLevel.Debug : LogLevel.Information, "{Domain}: {Verdict} ({Reason})", domain, answer.Verdict, answer.Reason);
        return new Resolution(domain, answer, false) { Dane = dane, DaneFromCache = daneFresh, Sts = sts };
    }

    private async Task<StsBranch> ResolveStsAsync(string domain, StsCacheEntry? entry, Task<bool> nullMx, TimeSpan ahead,
        CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (engine.Start(entry, now + ahead) is StsDone)
            return new StsBranch(engine.AnswerFrom(entry!, now), true) { Entry = entry };

        var txtResult = await dns.QueryTxtAsync("_mta-sts." + domain, ct);
        StsTxtResult? txt = txtResult.IsError ? null : StsTxtParser.Parse(txtResult.Records);
        var obs = txt is null ? TxtObservation.Error(txtResult.Detail) : TxtObservation.Of(txt, txtResult.Ttl);
        StsStep step = engine.OnTxt(domain, entry, obs, time.GetUtcNow(), ahead);

        FetchReport? fetch = null;
        if (step is StsNeedFetch need)
        {
            // RFC 7505: the domain accepts no mail; no reason to contact its policy host.
            if (await nullMx)
                return new StsBranch(PolicyAnswer.NoPolicy("null MX"), false) { Txt = txt, TxtDnsDetail = txtResult.Detail, SkippedForNullMx = true };
            fetch = await fetcher.FetchAsync(domain, ct);
            step = engine.OnFetch(domain, entry, need, fetch.Outcome, txtResult.Ttl, time.GetUtcNow());
            if (fetch.Outcome.Policy is null)
                log.LogWarning("MTA-STS policy fetch for {Domain} failed: {Detail}", domain, fetch.Outcome.Detail);
        }

        var done = (StsDone)step;
        if (done.Entry is { } updated)
        {
            memory.Set(updated);
            await store.SaveAsync(entry, updated, ct);
        }
        return new StsBranch(done.Answer, false) { Txt = txt, TxtDnsDetail = txtResult.Detail, Fetch = fetch, Entry = done.Entry ?? entry };
    }

    // Memory first while it is fresh at `at`; otherwise the store too, keeping whichever is newer, so a
    // result another server wrote to a shared cache saves this one the lookups.
    private async Task<DaneCacheEntry?> LoadDaneAsync(string domain, DateTimeOffset at, CancellationToken ct)
    {
        var mine = memory.Dane(domain);
        if (mine is not null && at < mine.ExpiresAt || await store.NewerAsync(domain, mine, ct) is not { } stored)
            return mine;
        memory.Set(stored);
        return stored;
    }

    private async Task<StsCacheEntry?> LoadStsAsync(string domain, DateTimeOffset at, CancellationToken ct)
    {
        var mine = memory.Sts(domain);
        if (mine is not null && at < mine.RecheckAt || await store.NewerAsync(domain, mine, ct) is not { } stored)
            return mine;
        memory.Set(stored);
        return stored;
    }
}
