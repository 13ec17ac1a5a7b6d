using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Resolution;

namespace Portcullis.Cli;

/// <summary><c>query DOMAIN</c>: a live resolution with every piece of evidence, beside what a running daemon's cache says.</summary>
public static class QueryCommand
{
    public const int ExitPolicy = 0, ExitNoPolicy = 1, ExitTemp = 2, ExitUsage = 64;

    /// <summary>A live resolution with its evidence and the exact Postfix answers, as values.</summary>
    public sealed record Live(Resolution.Resolution Resolution, Report Report, string Query, string QueryRpt);

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
        var live = await ResolveLiveAsync(settings, hop.Domain, ct);
        // This lookup starts with an empty cache; the running daemon may hold state that answers differently.
        var daemon = await ControlClient.ItemsAsync(settings, "show " + hop.Domain, ct);
        var view = new DaemonView(ControlClient.Describe(settings), daemon is not null, daemon?.FirstOrDefault(), live.Query);
        if (json)
        {
            var o = live.Report.ToJson();
            o["daemon_cache"] = view.ToJson();
            stdout.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            // TXT records, policy text and error details come from the network: escaped for the terminal.
            var text = new StringWriter();
            live.Report.WriteText(text);
            text.WriteLine($"Daemon cache:    {view.Text()}");
            stdout.Write(Core.Text.TerminalText.EscapeLines(text.ToString()));
        }
        return ExitFor(live.Resolution);
    }

    public static int ExitFor(Resolution.Resolution r) => r.Answer.Verdict switch
    {
        Verdict.DaneOnly or Verdict.Dane or Verdict.StsEnforce => ExitPolicy,
        Verdict.Temp => ExitTemp,
        _ => ExitNoPolicy,
    };

    /// <summary>Resolves <paramref name="domain"/> (an A-label) from scratch, with no cache.</summary>
    public static async Task<Live> ResolveLiveAsync(Settings settings, string domain, CancellationToken ct)
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
        string query = AnswerRenderer.Render(r.Answer, false, settings.Render).ToString();
        string queryRpt = AnswerRenderer.Render(r.Answer, true, settings.Render).ToString();
        return new Live(r, new Report(r, settings, selfTest, query, queryRpt), query, queryRpt);
    }

    /// <summary>What the running daemon's cache says for the domain, beside this live lookup.</summary>
    private sealed record DaemonView(string Socket, bool Running, CacheItem? Item, string LiveQuery)
    {
        public bool? Agrees => Running && Item?.Reply is { } reply ? reply == LiveQuery : null;

        public string Text() =>
            !Running ? $"no daemon answers on {Socket}: this was a lookup without any cache; a running daemon may hold cached state"
            : Item?.Reply is not { } reply ? $"nothing answerable cached in the running daemon: its next query resolves live, like this lookup"
            : $"the running daemon answers \"{reply}\" from its {Item.State} (expires {Item.Expires:u}); " +
              (Agrees == true ? "agrees with this lookup" : "DIFFERS from this lookup until then");

        public JsonObject ToJson() => new()
        {
            ["running"] = Running,
            ["socket"] = Socket,
            ["from"] = Item?.State,
            ["reply"] = Item?.Reply,
            ["expires"] = Item?.Expires?.ToString("o"),
            ["agrees"] = Agrees,
        };
    }

    public sealed record Report(Resolution.Resolution R, Settings S, ResolverHealth.Snapshot SelfTest, string Query, string QueryRpt)
    {
        public void WriteText(TextWriter o)
        {
            o.WriteLine($"Domain:          {R.Domain}");
            o.WriteLine($"Resolver:        {S.DnsServer} — {(SelfTest.Validates == true ? "validates DNSSEC" : "NOT VALIDATING")}: {SelfTest.Detail}");
            if (R.Dane is { } d)
            {
                o.WriteLine($"DANE:            {d.Verdict}: {d.Reason}");
                if (d.MxDetail is not null)
                    o.WriteLine($"  MX:            {d.MxDetail}");
                foreach (var h in d.Hosts)
                {
                    o.WriteLine($"  host {h.Host}: {h.Dane}: {h.Reason}");
                    foreach (string l in h.Lookups)
                        o.WriteLine($"    lookup:      {l}");
                    foreach (var (rec, why) in h.Tlsa)
                        o.WriteLine($"    TLSA {rec}: {why ?? "usable"}");
                }
            }
            if (R.Sts is { } s)
            {
                o.WriteLine($"MTA-STS TXT:     {s.TxtDnsDetail ?? (s.FromCache ? "(cached)" : "(not looked up)")}");
                if (s.Txt is { } txt)
                {
                    o.WriteLine($"  record:        {(txt.Record is null ? "(none)" : "\"" + txt.Record + "\"")}");
                    o.WriteLine($"  verdict:       {txt.Status}{(txt.Id is null ? "" : ", id " + txt.Id)}: {txt.Detail}");
                }
                if (s.Fetch is { } f)
                {
                    o.WriteLine($"Policy fetch:    GET {f.Url}");
                    o.WriteLine($"  response:      {(f.StatusCode is { } sc ? "HTTP " + sc : "no response")}, Content-Type {f.ContentType ?? "-"}, {f.BodyBytes} bytes, {f.Elapsed.TotalMilliseconds:0} ms");
                    o.WriteLine($"  result:        {(f.Outcome.Policy is null ? "FAILED (" + f.Outcome.Failure + ")" : "ok")}: {f.Outcome.Detail}");
                }
                else
                {
                    o.WriteLine($"Policy fetch:    {(s.SkippedForNullMx ? "skipped (null MX)" : "not attempted")}");
                }
                if (s.Entry?.Policy is { } p)
                {
                    o.WriteLine($"Policy:          id {s.Entry.PolicyId}, mode {StsModeNames.ToWire(p.Mode)}, max_age {p.MaxAgeSeconds}, valid until {s.Entry.PolicyExpiresAt:u}");
                    foreach (string mx in p.MxPatterns)
                        o.WriteLine($"  mx:            {mx}");
                }
            }
            else
            {
                o.WriteLine("MTA-STS:         not consulted (the DANE verdict decides)");
            }
            o.WriteLine($"Decision:        {R.Answer.Verdict}");
            o.WriteLine($"Why:             {R.Answer.Reason}");
            o.WriteLine($"Postfix answer:  {Query}");
            o.WriteLine($"  with TLSRPT:   {QueryRpt}");
        }

        public JsonObject ToJson()
        {
            var o = new JsonObject
            {
                ["domain"] = R.Domain,
                ["resolver"] = S.DnsServer.ToString(),
                ["resolver_validates"] = SelfTest.Validates == true,
                ["resolver_self_test"] = SelfTest.Detail,
                ["verdict"] = R.Answer.Verdict.ToString(),
                ["why"] = R.Answer.Reason,
                ["postfix_query"] = Query,
                ["postfix_query_with_tlsrpt"] = QueryRpt,
            };
            if (R.Dane is { } d)
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
            if (R.Sts is { } s)
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
}
