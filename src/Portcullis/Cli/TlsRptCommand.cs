using System.CommandLine;
using System.Globalization;
using Portcullis.Configuration;
using Portcullis.Core.TlsRpt;
using Portcullis.TlsRpt;
using Portcullis.Hosting;

namespace Portcullis.Cli;

/// <summary><c>tlsrpt import</c> and <c>tlsrpt summary</c>.</summary>
public static class TlsRptCommand
{
    public static Command Create()
    {
        var tlsrpt = new Command("tlsrpt", "TLS-RPT (RFC 8460): receive and summarise reports; report this server's own sessions");
        var importConfig = CommonOptions.Config();
        var paths = new Argument<string[]>("path") { Description = ".json / .json.gz report, mail message, Maildir, or a directory of .json, .json.gz and .eml files", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Store reports from files, mail messages or a Maildir (duplicates are skipped)") { paths, importConfig };
        CommonOptions.SetRun(import, importConfig, (_, _) => { }, (parse, s, _) => Task.FromResult(Import(s, parse.GetValue(paths)!, Console.Out)));
        var summaryConfig = CommonOptions.Config();
        var domain = new Option<string?>("--domain") { Description = "Only this policy domain" };
        var since = new Option<string?>("--since") { Description = "YYYY-MM-DD (default: 30 days ago)" };
        var limit = new Option<int>("--limit") { Description = "At most this many rows", DefaultValueFactory = _ => DefaultSummaryLimit };
        var summary = new Command("summary", "Sessions per policy domain, type and day, with failure types and sending MTA IPs")
        {
            summaryConfig, domain, since, limit,
        };
        CommonOptions.SetRun(summary, summaryConfig, (_, _) => { }, (parse, s, ct) =>
            SummaryAsync(s, parse.GetValue(domain), parse.GetValue(since), Console.Out, Console.Error, ct, Math.Max(1, parse.GetValue(limit))));
        var sendConfig = CommonOptions.Config();
        var day = new Option<string?>("--day") { Description = "Also report this day now (YYYY-MM-DD or 'today'), even if it is not over" };
        var sendDns = CommonOptions.Dns();
        var send = new Command("send", "Generate due reports about this server's sessions (tlsrpt.collect_socket) and deliver pending ones")
        {
            sendConfig, day, sendDns,
        };
        CommonOptions.SetRun(send, sendConfig, sendDns, (parse, s, ct) => SendAsync(s, parse.GetValue(day), Console.Out, Console.Error, ct));
        var sentConfig = CommonOptions.Config();
        var sentSince = new Option<string?>("--since") { Description = "YYYY-MM-DD (default: 30 days ago)" };
        var sent = new Command("sent", "Reports generated about this server's sessions and the state of each delivery") { sentConfig, sentSince };
        CommonOptions.SetRun(sent, sentConfig, (_, _) => { }, (parse, s, ct) => SentAsync(s, parse.GetValue(sentSince), Console.Out, Console.Error, ct));
        tlsrpt.Subcommands.Add(import);
        tlsrpt.Subcommands.Add(summary);
        tlsrpt.Subcommands.Add(send);
        tlsrpt.Subcommands.Add(sent);
        return tlsrpt;
    }

    public static int Import(Settings s, IReadOnlyList<string> paths, TextWriter o)
    {
        using var store = s.OpenReportStore();
        var receiver = new ReportReceiver(store, TimeProvider.System);
        int invalid = 0, stored = 0, duplicate = 0;
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
                _ = outcome switch
                {
                    ReceiveOutcome.Invalid => invalid++,
                    ReceiveOutcome.Duplicate => duplicate++,
                    _ => stored++,
                };
            }
        }
        o.WriteLine($"{stored} stored, {duplicate} duplicate, {invalid} failed");
        return invalid == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>
    /// A YYYY-MM-DD option value, or null after one line naming the option, the input and the
    /// expected form on stderr (the caller exits <see cref="ExitCodes.Usage"/>).
    /// </summary>
    public static DateOnly? ParseDay(string option, string value, TextWriter err)
    {
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return day;
        err.WriteLine($"portcullis: {option} '{value}' is not a date; expected YYYY-MM-DD (a real calendar day, e.g. 2026-02-28)");
        return null;
    }

    public const int DefaultSummaryLimit = 1000;

    /// <summary>The --since day (default: 30 days ago); null after the one-line usage error.</summary>
    private static DateOnly? Since(string? since, TextWriter err) =>
        since is null ? DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-30)) : ParseDay("--since", since, err);

    public static async Task<int> SummaryAsync(Settings s, string? domain, string? since, TextWriter o, TextWriter err, CancellationToken ct,
        int limit = DefaultSummaryLimit)
    {
        if (Since(since, err) is not { } from)
            return ExitCodes.Usage;
        using var store = s.OpenReportStore();
        var page = await store.SummaryAsync(from, domain?.TrimEnd('.').ToLowerInvariant(), limit, ct);
        var rows = page.Rows;
        o.WriteLine($"{"DAY",-10} {"POLICY DOMAIN",-30} {"TYPE",-15} {"OK",8} {"FAILED",8}  FAILURES (sending MTA IPs)");
        foreach (var r in rows)
        {
            string failures = string.Join("; ", r.Failures.Select(f => $"{f.ResultType} {f.Sessions} ({string.Join(", ", f.SendingIps)})"));
            o.WriteLine($"{r.Day:yyyy-MM-dd} {r.PolicyDomain,-30} {r.PolicyType,-15} {r.Successful,8} {r.Failed,8}  {failures}");
        }
        o.WriteLine($"{rows.Count} row(s) since {from:yyyy-MM-dd}{(page.Truncated ? $" (more not shown: --limit, --domain or --since)" : "")}");
        return ExitCodes.Ok;
    }

    /// <summary><c>tlsrpt send</c>: generate the reports that are due (or one day's now) and deliver what is pending.</summary>
    public static async Task<int> SendAsync(Settings s, string? day, TextWriter o, TextWriter err, CancellationToken ct)
    {
        DateOnly? forced = null;
        if (day == "today")
            forced = DateOnly.FromDateTime(DateTime.UtcNow);
        else if (day is not null && (forced = ParseDay("--day", day, err)) is null)
            return ExitCodes.Usage;
        if (!s.Config.Tlsrpt.Send.Enabled)
        {
            // Without it the identity fields were never validated: reports would lack required fields.
            await err.WriteLineAsync("portcullis: tlsrpt.send.enabled is false in this configuration; " +
                "set it with organization_name, contact_info and mail_from (see README, \"Reporting your own sessions\")");
            return ExitCodes.Config;
        }
        using var store = new Storage.Sessions.SessionStore(s.TlsRptDatabase);
        var dns = s.CreateResolver();
        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(_ => { });
        var run = await s.CreateReportSender(store, dns, TimeProvider.System, loggers.CreateLogger("tlsrpt")).RunAsync(forced, ct);
        foreach (string id in run.Generated)
            o.WriteLine($"generated {id}");
        foreach (string d in run.Delivered)
            o.WriteLine($"delivered {d}");
        foreach (string f in run.Failed)
            o.WriteLine($"NOT delivered {f}");
        o.WriteLine($"{run.Generated.Count} report(s) generated, {run.Delivered.Count} delivered, {run.Failed.Count} not delivered");
        return run.Failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary><c>tlsrpt sent</c>: generated reports and the state of each delivery.</summary>
    public static async Task<int> SentAsync(Settings s, string? since, TextWriter o, TextWriter err, CancellationToken ct)
    {
        if (Since(since, err) is not { } from)
            return ExitCodes.Usage;
        using var store = new Storage.Sessions.SessionStore(s.TlsRptDatabase);
        var rows = await store.DeliveriesAsync(from, ct);
        o.WriteLine($"{"DAY",-10} {"DOMAIN",-30} {"OK",7} {"FAILED",7} {"STATUS",-8} {"TRIES",5}  DESTINATION / LAST ERROR");
        foreach (var r in rows)
        {
            o.WriteLine($"{r.Day:yyyy-MM-dd} {r.Domain,-30} {r.Successful,7} {r.Failed,7} {r.Status,-8} {r.Attempts,5}  " +
                $"{r.Destination}{(r.LastError is null ? "" : "  " + r.LastError)}");
        }
        o.WriteLine($"{rows.Count} delivery row(s) since {from:yyyy-MM-dd}");
        return ExitCodes.Ok;
    }
}
