using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Cache;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Http;
using Portcullis.Resolution;

namespace Portcullis.Cli;

/// <summary><c>query DOMAIN</c>: a live resolution with every piece of evidence, no daemon needed.</summary>
public static class QueryCommand
{
    public const int ExitPolicy = 0, ExitNoPolicy = 1, ExitTemp = 2, ExitUsage = 64;

    public static async Task<int> RunAsync(Settings settings, string key, bool json, TextWriter stdout, CancellationToken ct)
    {
        var hop = NextHopParser.Parse(key);
        if (hop.Kind != NextHopKind.Domain)
        {
            if (json)
                stdout.WriteLine(new JsonObject { ["key"] = key, ["postfix_query"] = "NOTFOUND ", ["why"] = hop.Detail }.ToJsonString());
            else
                stdout.WriteLine($"{key}: NOTFOUND without lookups: {hop.Detail}");
            return hop.Kind == NextHopKind.Invalid ? ExitUsage : ExitNoPolicy;
        }
        var time = TimeProvider.System;
        var dns = settings.CreateResolver();
        using var fetcher = new PolicyFetcher(dns, settings.Fetch, time);
        await using var store = new MemoryPolicyStore();
        var resolver = new PolicyResolver(dns, fetcher, store, new StsEngine(settings.Sts), time, NullLogger<PolicyResolver>.Instance);
        var r = await resolver.ResolveAsync(hop.Domain, ct);
        var query = AnswerRenderer.Render(r.Answer, false, settings.Render).ToString();
        var queryRpt = AnswerRenderer.Render(r.Answer, true, settings.Render).ToString();
        if (json)
            stdout.WriteLine(ToJson(r, settings, query, queryRpt).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else
            WriteText(stdout, r, settings, query, queryRpt);
        return r.Answer.Verdict switch
        {
            Verdict.DaneOnly or Verdict.Dane or Verdict.StsEnforce => ExitPolicy,
            Verdict.Temp => ExitTemp,
            _ => ExitNoPolicy,
        };
    }

    private static void WriteText(TextWriter o, Resolution.Resolution r, Settings s, string query, string queryRpt)
    {
        o.WriteLine($"Domain:          {r.Domain}");
        o.WriteLine($"Resolver:        {s.DnsServer}");
        o.WriteLine($"MTA-STS TXT:     {r.TxtDnsDetail}");
        if (r.Txt is { } txt)
        {
            o.WriteLine($"  record:        {(txt.Record is null ? "(none)" : "\"" + txt.Record + "\"")}");
            o.WriteLine($"  verdict:       {txt.Status}{(txt.Id is null ? "" : ", id " + txt.Id)}: {txt.Detail}");
        }
        if (r.Fetch is { } f)
        {
            o.WriteLine($"Policy fetch:    GET {f.Url}");
            o.WriteLine($"  response:      {(f.StatusCode is { } sc ? "HTTP " + sc : "no response")}, Content-Type {f.ContentType ?? "-"}, {f.BodyBytes} bytes, {f.Elapsed.TotalMilliseconds:0} ms");
            o.WriteLine($"  result:        {(f.Outcome.Policy is null ? "FAILED (" + f.Outcome.Failure + ")" : "ok")}: {f.Outcome.Detail}");
        }
        else
        {
            o.WriteLine("Policy fetch:    not attempted");
        }
        if (r.Entry?.Policy is { } p)
        {
            o.WriteLine($"Policy:          id {r.Entry.PolicyId}, mode {StsModeNames.ToWire(p.Mode)}, max_age {p.MaxAgeSeconds}, valid until {r.Entry.PolicyExpiresAt:u}");
            foreach (string mx in p.MxPatterns)
                o.WriteLine($"  mx:            {mx}");
        }
        o.WriteLine($"Decision:        {r.Answer.Verdict}");
        o.WriteLine($"Why:             {r.Answer.Reason}");
        o.WriteLine($"Postfix answer:  {query}");
        o.WriteLine($"  with TLSRPT:   {queryRpt}");
    }

    private static JsonObject ToJson(Resolution.Resolution r, Settings s, string query, string queryRpt)
    {
        var o = new JsonObject
        {
            ["domain"] = r.Domain,
            ["resolver"] = s.DnsServer.ToString(),
            ["verdict"] = r.Answer.Verdict.ToString(),
            ["why"] = r.Answer.Reason,
            ["postfix_query"] = query,
            ["postfix_query_with_tlsrpt"] = queryRpt,
            ["txt"] = new JsonObject
            {
                ["lookup"] = r.TxtDnsDetail,
                ["status"] = r.Txt?.Status.ToString(),
                ["record"] = r.Txt?.Record,
                ["id"] = r.Txt?.Id,
                ["detail"] = r.Txt?.Detail,
            },
        };
        if (r.Fetch is { } f)
        {
            o["fetch"] = new JsonObject
            {
                ["url"] = f.Url,
                ["status"] = f.StatusCode,
                ["content_type"] = f.ContentType,
                ["bytes"] = f.BodyBytes,
                ["elapsed_ms"] = (long)f.Elapsed.TotalMilliseconds,
                ["ok"] = f.Outcome.Policy is not null,
                ["failure"] = f.Outcome.Failure is { } t ? StsFailureTypeNames.ToWire(t) : null,
                ["detail"] = f.Outcome.Detail,
            };
        }
        if (r.Entry?.Policy is { } p)
        {
            o["policy"] = new JsonObject
            {
                ["id"] = r.Entry.PolicyId,
                ["mode"] = StsModeNames.ToWire(p.Mode),
                ["max_age"] = p.MaxAgeSeconds,
                ["mx"] = new JsonArray([.. p.MxPatterns.Select(m => (JsonNode?)JsonValue.Create(m))]),
                ["expires"] = r.Entry.PolicyExpiresAt?.ToString("o"),
            };
        }
        return o;
    }
}
