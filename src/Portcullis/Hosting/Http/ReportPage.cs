using System.Globalization;
using System.Net;
using System.Text;
using Portcullis.Core.TlsRpt;

namespace Portcullis.Hosting.Http;

/// <summary>
/// A self-contained HTML page (no scripts, no external assets) on the console listener
/// (<c>console.listen</c>): failed versus successful sessions per day as an SVG bar chart, and the
/// summary table, both from the aggregated rows and bounded (<see cref="MaxRows"/>).
/// </summary>
public static class ReportPage
{
    public const int MaxRows = 200, Days = 30;

    public static string Render(SummaryPage page, DateOnly since)
    {
        var rows = page.Rows;
        var days = page.Days.Select(d => (d.Day, Ok: d.Successful, d.Failed)).ToList();
        double max = Math.Max(1, days.Select(d => (double)d.Ok + d.Failed).DefaultIfEmpty(1).Max());
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>TLS-RPT reports</title>")
          .Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}")
          .Append("td.l,th.l{text-align:left}.f{fill:#c0392b}.o{fill:#27ae60}</style></head><body>")
          .Append($"<h1>TLS-RPT reports since {since:yyyy-MM-dd}</h1>");
        const int barWidth = 24, height = 160;
        sb.Append($"<svg role=\"img\" aria-label=\"sessions per day\" width=\"{Math.Max(1, days.Count) * (barWidth + 6) + 10}\" height=\"{height + 30}\">");
        for (int i = 0; i < days.Count; i++)
        {
            var d = days[i];
            int x = 10 + i * (barWidth + 6);
            int hf = (int)(height * d.Failed / max), ho = (int)(height * d.Ok / max); // double: no overflow
            sb.Append($"<rect class=\"o\" x=\"{x}\" y=\"{height - ho - hf}\" width=\"{barWidth}\" height=\"{ho}\"><title>{d.Day:yyyy-MM-dd}: {d.Ok} successful</title></rect>");
            sb.Append($"<rect class=\"f\" x=\"{x}\" y=\"{height - hf}\" width=\"{barWidth}\" height=\"{hf}\"><title>{d.Day:yyyy-MM-dd}: {d.Failed} failed</title></rect>");
            sb.Append($"<text x=\"{x}\" y=\"{height + 20}\" font-size=\"9\">{d.Day:MM-dd}</text>");
        }
        sb.Append("</svg><table><tr><th class=\"l\">Day</th><th class=\"l\">Policy domain</th><th class=\"l\">Type</th><th>Successful</th><th>Failed</th><th class=\"l\">Failures (sending MTA IPs)</th><th class=\"l\">Reporters</th></tr>");
        foreach (var r in rows)
        {
            string failures = string.Join("; ", r.Failures.Select(f => $"{f.ResultType} {f.Sessions} ({string.Join(", ", f.SendingIps)})"));
            sb.Append("<tr>")
              .Append($"<td class=\"l\">{r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>")
              .Append($"<td class=\"l\">{WebUtility.HtmlEncode(r.PolicyDomain)}</td><td class=\"l\">{WebUtility.HtmlEncode(r.PolicyType)}</td>")
              .Append($"<td>{r.Successful}</td><td>{r.Failed}</td>")
              .Append($"<td class=\"l\">{WebUtility.HtmlEncode(failures)}</td><td class=\"l\">{WebUtility.HtmlEncode(string.Join(", ", r.Reporters))}</td></tr>");
        }
        sb.Append("</table>");
        if (page.Truncated)
            sb.Append($"<p>Only the first {rows.Count} rows are shown; use <code>portcullis tlsrpt summary --domain D</code> for the rest.</p>");
        sb.Append("</body></html>");
        return sb.ToString();
    }
}
