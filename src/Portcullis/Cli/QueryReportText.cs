using Portcullis.Core.MtaSts;
using Portcullis.Resolution;

namespace Portcullis.Cli;

/// <summary><c>query</c>'s evidence for a terminal (the caller escapes network text).</summary>
public static class QueryReportText
{
    public static void WriteText(this QueryReport r, TextWriter o)
    {
        o.WriteLine($"Domain:          {r.Resolution.Domain}");
        o.WriteLine($"Resolver:        {r.Resolver} — {(r.SelfTest.Validates == true ? "validates DNSSEC" : "NOT VALIDATING")}: {r.SelfTest.Detail}");
        if (r.Resolution.Dane is { } d)
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
        if (r.Resolution.Sts is { } s)
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
        o.WriteLine($"Decision:        {r.Resolution.Answer.Verdict}");
        o.WriteLine($"Why:             {r.Resolution.Answer.Reason}");
        o.WriteLine($"Postfix answer:  {r.Query}");
        o.WriteLine($"  with TLSRPT:   {r.QueryRpt}");
    }
}
