using System.Text.Json.Nodes;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Resolution;

namespace Portcullis.Cli;

/// <summary><c>query --json</c>: the same evidence as <see cref="QueryReportText"/>, as a JSON document.</summary>
public static class QueryReportJson
{
    public static JsonObject ToJson(this QueryReport r)
    {
        var o = new JsonObject
        {
            ["domain"] = r.Resolution.Domain,
            ["resolver"] = r.Resolver,
            ["resolver_validates"] = r.SelfTest.Validates == true,
            ["resolver_self_test"] = r.SelfTest.Detail,
            ["verdict"] = r.Resolution.Answer.Verdict.ToString(),
            ["why"] = r.Resolution.Answer.Reason,
            ["postfix_query"] = r.Query,
            ["postfix_query_with_tlsrpt"] = r.QueryRpt,
        };
        if (r.Resolution.Dane is { } d)
        {
            o["dane"] = new JsonObject
            {
                ["verdict"] = d.Verdict.ToString(),
                ["reason"] = d.Reason,
                ["mx"] = d.MxDetail,
                ["mx_secure"] = d.MxSecure,
                ["hosts"] = new JsonArray([.. d.Hosts.Select(h => (JsonNode)new JsonObject
                {
                    ["host"] = h.Host,
                    ["dane"] = h.Dane.ToString(),
                    ["reason"] = h.Reason,
                    ["tlsa_name"] = h.TlsaName,
                    ["lookups"] = new JsonArray([.. h.Lookups.Select(l => (JsonNode?)JsonValue.Create(l))]),
                    ["tlsa"] = new JsonArray([.. h.Tlsa.Select(t => (JsonNode)new JsonObject
                    {
                        ["record"] = t.Record.ToString(),
                        ["usable"] = t.Unusable is null,
                        ["why"] = t.Unusable,
                    })]),
                })]),
            };
        }
        if (r.Resolution.Sts is { } s)
        {
            o["txt"] = new JsonObject
            {
                ["lookup"] = s.TxtDnsDetail,
                ["status"] = s.Txt?.Status.ToString(),
                ["record"] = s.Txt?.Record,
                ["id"] = s.Txt?.Id,
                ["detail"] = s.Txt?.Detail,
            };
            if (s.Fetch is { } f)
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
            if (s.Entry?.Policy is { } p)
            {
                o["policy"] = new JsonObject
                {
                    ["id"] = s.Entry.PolicyId,
                    ["mode"] = StsModeNames.ToWire(p.Mode),
                    ["max_age"] = p.MaxAgeSeconds,
                    ["mx"] = new JsonArray([.. p.MxPatterns.Select(m => (JsonNode?)JsonValue.Create(m))]),
                    ["expires"] = s.Entry.PolicyExpiresAt?.ToString("o"),
                };
            }
        }
        return o;
    }
}
