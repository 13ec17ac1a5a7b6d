using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Observability;
using Portcullis.Resolution;

namespace Portcullis.Server;

/// <summary>Answers one socketmap request: map name and key checks, then the policy decision.</summary>
public sealed class SocketmapService(PolicyResolver resolver, LiveSettings settings, PortcullisMetrics metrics, TimeProvider time,
    ILogger<SocketmapService> log)
{
    public async ValueTask<SocketmapReply> HandleAsync(SocketmapRequest request, CancellationToken ct)
    {
        var live = settings.Current;
        if (!live.Maps.TryGetValue(request.MapName, out var options))
            return Count("unknown", null, SocketmapReply.Perm($"unknown map name {request.MapName}; use {string.Join(" or ", live.Maps.Keys)}"));
        string map = options.Name;

        var hop = NextHopParser.Parse(request.Key);
        if (hop.Kind != NextHopKind.Domain)
        {
            // Parent-domain retries, address literals and junk: no lookups (RFC 8461 §3.4, RFC 7672 §2.2).
            log.LogDebug("{Key}: NOTFOUND ({Detail})", request.Key, hop.Detail);
            return Count(map, null, SocketmapReply.NotFound);
        }
        if (live.Overrides.TryGetValue(hop.Domain, out var fixedPolicy) && fixedPolicy.IsActive(time.GetUtcNow()))
        {
            metrics.Queries.Add(1, new System.Diagnostics.TagList { { "map", map }, { "answer", "override" } });
            return SocketmapReply.Ok(fixedPolicy.Policy);
        }
        try
        {
            var resolution = await resolver.ResolveAsync(hop.Domain, ct);
            metrics.CacheRequests.Add(1, PortcullisMetrics.Tags("result", resolution.FromCache ? "hit" : "miss"));
            var answer = options.Apply(resolution.Answer);
            return Count(map, answer.Verdict, AnswerRenderer.Render(answer, options.TlsRpt, live.Render));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A bug must defer mail, never send it with less protection.
            log.LogError(ex, "Resolving {Domain} failed unexpectedly", hop.Domain);
            return Count(map, null, SocketmapReply.Temp("internal error; see Portcullis log"));
        }
    }

    private SocketmapReply Count(string map, Verdict? verdict, SocketmapReply reply)
    {
        string answer = reply.Status switch
        {
            ReplyStatus.Perm => "perm",
            ReplyStatus.Temp => "temp",
            ReplyStatus.NotFound => "notfound",
            _ => verdict switch
            {
                Verdict.DaneOnly => "dane-only",
                Verdict.Dane => "dane",
                Verdict.StsEnforce => "secure",
                _ => "notfound",
            },
        };
        metrics.Queries.Add(1, new System.Diagnostics.TagList { { "map", map }, { "answer", answer } });
        return reply;
    }
}
