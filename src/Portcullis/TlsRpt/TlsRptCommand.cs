using System.Globalization;
using Portcullis.Configuration;
using Portcullis.Core.TlsRpt;

namespace Portcullis.TlsRpt;

/// <summary><c>tlsrpt import</c> and <c>tlsrpt summary</c>.</summary>
public static class TlsRptCommand
{
    public static int Import(Settings s, IReadOnlyList<string> paths, TextWriter o)
    {
        using var store = new ReportStore(s.TlsRptDatabase);
        var receiver = new ReportReceiver(store, TimeProvider.System);
        int invalid = 0;
        foreach (string path in paths)
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                o.WriteLine($"{path}: not found");
                invalid++;
                continue;
            }
            foreach (var (source, outcome, detail) in receiver.Import(path))
            {
                o.WriteLine($"{source}: {outcome.ToString().ToLowerInvariant()}: {detail}");
                if (outcome == ReceiveOutcome.Invalid)
                    invalid++;
            }
        }
        return invalid == 0 ? 0 : 1;
    }

    public static int Summary(Settings s, string? domain, string? since, TextWriter o)
    {
        var from = since is null ? DateTimeOffset.UtcNow.AddDays(-30)
            : DateTimeOffset.ParseExact(since, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        using var store = new ReportStore(s.TlsRptDatabase);
        var rows = TlsRptSummary.Build(store.Since(from), domain?.TrimEnd('.').ToLowerInvariant());
        o.WriteLine($"{"DAY",-10} {"POLICY DOMAIN",-30} {"TYPE",-15} {"OK",8} {"FAILED",8}  FAILURES (sending MTA IPs)");
        foreach (var r in rows)
        {
            string failures = string.Join("; ", r.Failures.Select(f => $"{f.ResultType} {f.Sessions} ({string.Join(", ", f.SendingIps)})"));
            o.WriteLine($"{r.Day:yyyy-MM-dd} {r.PolicyDomain,-30} {r.PolicyType,-15} {r.Successful,8} {r.Failed,8}  {failures}");
        }
        o.WriteLine($"{rows.Count} row(s) since {from:yyyy-MM-dd}");
        return 0;
    }
}
