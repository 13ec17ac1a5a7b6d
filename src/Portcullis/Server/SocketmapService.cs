using Microsoft.Extensions.Logging;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Observability;
using Portcullis.Resolution;

namespace Portcullis.Server;

/// <summary>Answers one socketmap request: map name and key checks, then the policy decision.</summary>
public sealed class SocketmapService(PolicyResolver resolver, RenderOptions render, PortcullisMetrics metrics,
    ILogger<SocketmapService> log)
{
    public const string QueryMap = "QUERY";
    public const string QueryWithTlsRptMap = "QUERYwithTLSRPT";

    public async ValueTask<SocketmapReply> HandleAsync(SocketmapRequest request, CancellationToken ct)
    {
        string map;
        if (string.Equals(request.MapName, QueryMap, StringComparison.OrdinalIgnoreCase))
            map = QueryMap;
        else if (string.Equals(request.MapName, QueryWithTlsRptMap, StringComparison.OrdinalIgnoreCase))
            map = QueryWithTlsRptMap;
        else
            return Count("unknown", null, SocketmapReply.Perm($"unknown map name {request.MapName}; use {QueryMap} or {QueryWithTlsRptMap}"));

        var hop = NextHopParser.Parse(request.Key);
        if (hop.Kind != NextHopKind.Domain)
        {
            // Parent-domain retries, address literals and junk: no lookups (RFC 8461 §3.4, RFC 7672 §2.2).
            log.LogDebug("{Key}: NOTFOUND ({Detail})", request.Key, hop.Detail);
            return Count(map, null, SocketmapReply.NotFound);
        }
        try
        {
            var resolution = await resolver.ResolveAsync(hop.Domain, ct);
            metrics.CacheRequests.Add(1, PortcullisMetrics.Tags("result", resolution.FromCache ? "hit" : "miss"));
            return Count(map, resolution.Answer.Verdict, AnswerRenderer.Render(resolution.Answer, map == QueryWithTlsRptMap, render));
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
