using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Core.Caching;
using Portcullis.Cli;
using Portcullis.Configuration;
using Portcullis.Dns;
using Portcullis.Resolution;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// The console's JSON documents about the resolver and the cache, from the daemon's own objects: the resolver
/// self-test, the cache (<see cref="PolicyCacheAdmin"/>, as the control socket lists it, overrides first) and the
/// same live resolution with evidence that <c>query</c> prints (<see cref="LiveResolution"/>, <see cref="QueryReportJson"/>).
/// </summary>
public sealed class ConsoleApi(Settings settings, LiveSettings live, PolicyResolver resolver, PolicyCacheAdmin cache, PolicyMemory memory,
    ResolverHealth health, ConsoleStats stats, TimeProvider time)
{
    public const int MaxPageSize = 200, DefaultPageSize = 50, MaxLiveLookups = 2;
    /// <summary>A live lookup is bounded by its DNS and fetch timeouts; this caps the whole of it.</summary>
    public static readonly TimeSpan LiveLookupTimeout = TimeSpan.FromSeconds(90);
    /// <summary>A refresh resolves as if this much time had passed: everything cached counts as due.</summary>
    public static readonly TimeSpan RefreshAhead = TimeSpan.FromDays(400);

    private readonly SemaphoreSlim _live = new(MaxLiveLookups, MaxLiveLookups);

    public Overview Overview()
    {
        var now = time.GetUtcNow();
        var r = health.State;
        return new Overview(now, stats.StartedAt, (long)(now - stats.StartedAt).TotalSeconds,
            new ResolverState(r.Validates, r.Trust.ToString(), r.Detail, r.CheckedAt == DateTimeOffset.MinValue ? null : r.CheckedAt),
            memory.CachedDomains,
            stats.Counts("portcullis_queries_total"), stats.Counts("portcullis_https_fetch_failures_total"),
            stats.Counts("portcullis_dns_failures_total"), stats.Counts("portcullis_cache_store_failures_total"),
            stats.Counts("portcullis_prefetch_total"), stats.Counts("portcullis_tlsrpt_reports_total"));
    }

    /// <summary>What Postfix gets now per domain, overrides first, as <c>cache list</c> shows it.</summary>
    public async Task<IReadOnlyList<CacheItem>> ItemsAsync(CancellationToken ct) =>
        CacheItem.WithOverrides(await cache.ListAsync(live.Current.Render, ct), live.Current.Overrides, time.GetUtcNow());

    public async Task<CachePage> CacheAsync(string? query, int page, int size, CancellationToken ct)
    {
        string q = (query ?? "").Trim().ToLowerInvariant();
        size = Math.Clamp(size, 1, MaxPageSize);
        var matching = (await ItemsAsync(ct)).Where(i => q.Length == 0 || i.Domain.Contains(q, StringComparison.Ordinal)).ToList();
        int pages = Math.Max(1, (matching.Count + size - 1) / size);
        page = Math.Clamp(page, 1, pages);
        return new CachePage(q, page, size, matching.Count, [.. matching.Skip((page - 1) * size).Take(size)]);
    }

    /// <summary><c>query</c>'s evidence for one domain (its --json document), beside what this daemon's cache holds.</summary>
    public async Task<IResult> DomainAsync(string domain, CancellationToken ct)
    {
        if (!await _live.WaitAsync(TimeSpan.Zero, ct))
            return Error(StatusCodes.Status429TooManyRequests, $"{MaxLiveLookups} live lookups are running; try again when they are done");
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(LiveLookupTimeout);
            var lookup = await LiveResolution.ResolveAsync(settings, domain, cts.Token);
            var cached = (await ItemsAsync(ct)).FirstOrDefault(i => i.Domain == domain);
            var doc = new JsonObject
            {
                ["domain"] = domain,
                ["exit_status"] = QueryCommand.ExitFor(lookup.Resolution),
                ["evidence"] = lookup.ToJson(),
                ["cache"] = cached is null ? null : JsonSerializer.SerializeToNode(cached, ConsoleJson.Default.CacheItem),
                ["cache_agrees"] = cached?.Reply is { } reply ? reply == lookup.Query : null,
            };
            return Results.Text(doc.ToJsonString(), "application/json; charset=utf-8");
        }
        finally
        {
            _live.Release();
        }
    }

    public async Task<RefreshResult> RefreshAsync(string domain, CancellationToken ct)
    {
        var r = await resolver.RefreshAsync(domain, RefreshAhead, ct);
        return new RefreshResult(domain, r.Answer.Verdict.ToString(), r.Answer.Reason,
            Core.Policy.AnswerRenderer.Render(r.Answer, false, live.Current.Render).ToString());
    }

    public async Task<PurgeResult> PurgeAsync(string domain, CancellationToken ct) => new(domain, await cache.PurgeAsync(domain, ct));

    public static IResult Error(int status, string message) =>
        Results.Json(new ApiError(message), ConsoleJson.Default.ApiError, statusCode: status);
}
