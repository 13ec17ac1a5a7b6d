using System.Buffers;
using Microsoft.Extensions.Logging;
using Portcullis.Configuration;
using Portcullis.Hosting.Socketmap;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Observability;
using Portcullis.Resolution;

namespace Portcullis.Hosting.Socketmap;

/// <summary>Answers one socketmap request: map name and key checks, then the policy decision.</summary>
public sealed class SocketmapService(PolicyResolver resolver, ReplyCache replies, LiveSettings settings, PortcullisMetrics metrics, TimeProvider time,
    ILogger<SocketmapService> log)
{
    private readonly LogThrottle _invalidKeys = new(time, LogThrottle.DefaultInterval);
    private readonly LogThrottle _failures = new(time, LogThrottle.DefaultInterval);

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
            if (hop.Kind == NextHopKind.Invalid && _invalidKeys.TryEnter(out long skipped))
            {
                log.LogWarning("Invalid key '{Key}' answered NOTFOUND: {Detail} ({Skipped} more invalid keys since the last such line)",
                    LogThrottle.Printable(request.Key), LogThrottle.Printable(hop.Detail), skipped);
            }
            else
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
            // A bug must defer mail, never send it with less protection; one trace a minute is enough to find it.
            if (_failures.TryEnter(out long skipped))
                log.LogError(ex, "Resolving {Domain} failed unexpectedly ({Skipped} more such failures since the last trace)", hop.Domain, skipped);
            return Count(map, null, SocketmapReply.Temp("internal error; see Portcullis log"));
        }
    }

    /// <summary>
    /// The allocation-free path for a domain memory can answer: parses the payload as spans, writes the
    /// reply rendered earlier for the same cached entries and map. False: use <see cref="HandleAsync"/>.
    /// </summary>
    public bool TryAnswerFromMemory(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        // Longest name plus map name; anything longer (or non-ASCII, or not a plain domain) takes the full path.
        if (payload.Length > 300)
            return false;
        Span<char> text = stackalloc char[payload.Length];
        if (System.Text.Ascii.ToUtf16(payload, text, out int n) != System.Buffers.OperationStatus.Done)
            return false;
        // The request parser's own split; only a key the full path would map to itself may be looked up as it is.
        if (!SocketmapRequest.TrySplit(text[..n], out var mapName, out var key, out _) || !NextHopParser.IsCanonicalKey(key))
            return false;
        var live = settings.Current;
        if (!live.MapsBySpan.TryGetValue(mapName, out var options) || live.OverridesBySpan.ContainsKey(key))
            return false;
        var reply = replies.TryGet(key, options, live.Render, Encode);
        if (reply is null)
            return false;
        metrics.CacheRequests.Add(1, new System.Diagnostics.TagList { { "result", "hit" } });
        metrics.Queries.Add(1, new System.Diagnostics.TagList { { "map", options.Name }, { "answer", reply.Answer } });
        output.Write(reply.Frame);
        return true;
    }

    private static readonly Func<Resolution.Resolution, MapOptions, RenderOptions, (byte[], string)> Encode = static (resolution, options, render) =>
    {
        var answer = options.Apply(resolution.Answer);
        var reply = AnswerRenderer.Render(answer, options.TlsRpt, render);
        var buffer = new ArrayBufferWriter<byte>();
        reply.WriteTo(buffer);
        return (buffer.WrittenSpan.ToArray(), AnswerLabel(answer.Verdict, reply));
    };

    private SocketmapReply Count(string map, Verdict? verdict, SocketmapReply reply)
    {
        metrics.Queries.Add(1, new System.Diagnostics.TagList { { "map", map }, { "answer", AnswerLabel(verdict, reply) } });
        return reply;
    }

    private static string AnswerLabel(Verdict? verdict, SocketmapReply reply)
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
                // "OK dane policy_type=no-policy-found" (QUERYwithTLSRPT): Postfix was told that level, not NOTFOUND.
                _ => NoPolicyLabel(reply.Data),
            },
        };
        return answer;
    }

    // Bounded: the configured level is one of Postfix's levels (validated at load); anything else is "ok".
    private static readonly string[] NoPolicyLevels = ["none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"];
    private static readonly string[] NoPolicyLabels = NoPolicyLevels.Select(l => "no-policy-" + l).ToArray();

    private static string NoPolicyLabel(string data)
    {
        var level = data.AsSpan(0, data.IndexOf(' ') is >= 0 and var sp ? sp : data.Length);
        for (int i = 0; i < NoPolicyLevels.Length; i++)
        {
            if (level.SequenceEqual(NoPolicyLevels[i]))
                return NoPolicyLabels[i];
        }
        return "ok";
    }
}
