using Microsoft.Extensions.Logging;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Resolution;

namespace Portcullis.Server;

/// <summary>Answers one socketmap request: map name and key checks, then the policy decision.</summary>
public sealed class SocketmapService(PolicyResolver resolver, RenderOptions render, ILogger<SocketmapService> log)
{
    public const string QueryMap = "QUERY";
    public const string QueryWithTlsRptMap = "QUERYwithTLSRPT";

    public async ValueTask<SocketmapReply> HandleAsync(SocketmapRequest request, CancellationToken ct)
    {
        bool tlsrpt;
        if (string.Equals(request.MapName, QueryMap, StringComparison.OrdinalIgnoreCase))
            tlsrpt = false;
        else if (string.Equals(request.MapName, QueryWithTlsRptMap, StringComparison.OrdinalIgnoreCase))
            tlsrpt = true;
        else
            return SocketmapReply.Perm($"unknown map name {request.MapName}; use {QueryMap} or {QueryWithTlsRptMap}");

        var hop = NextHopParser.Parse(request.Key);
        if (hop.Kind != NextHopKind.Domain)
        {
            // Parent-domain retries, address literals and junk: no lookups (RFC 8461 §3.4, RFC 7672 §2.2).
            log.LogDebug("{Key}: NOTFOUND ({Detail})", request.Key, hop.Detail);
            return SocketmapReply.NotFound;
        }
        try
        {
            var resolution = await resolver.ResolveAsync(hop.Domain, ct);
            return AnswerRenderer.Render(resolution.Answer, tlsrpt, render);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A bug must defer mail, never send it with less protection.
            log.LogError(ex, "Resolving {Domain} failed unexpectedly", hop.Domain);
            return SocketmapReply.Temp("internal error; see Portcullis log");
        }
    }
}
