using System.Text;
using Portcullis.Core.TlsRpt;

namespace Portcullis.TlsRpt;

public enum ReceiveOutcome { Stored, Duplicate, Invalid }

/// <summary>Decode, validate, store: shared by the HTTPS endpoint and the mail import.</summary>
public sealed class ReportReceiver(IReportStore store, TimeProvider time, Observability.PortcullisMetrics? metrics = null)
{
    public (ReceiveOutcome Outcome, string Detail) Receive(byte[] body)
    {
        var (json, error) = ReportInput.Decode(body);
        if (json is null)
            return Count(ReceiveOutcome.Invalid, error!, null);
        return Receive(json, error);
    }

    private (ReceiveOutcome, string) Receive(byte[] json, string? _)
    {
        var (report, error) = TlsRptParser.Parse(json);
        if (report is null)
            return Count(ReceiveOutcome.Invalid, error!, null);
        return store.Add(report, Encoding.UTF8.GetString(json), time.GetUtcNow())
            ? Count(ReceiveOutcome.Stored, $"report {report.ReportId} from {report.OrganizationName}", report)
            : Count(ReceiveOutcome.Duplicate, $"report {report.ReportId} already stored", null);
    }

    private (ReceiveOutcome, string) Count(ReceiveOutcome outcome, string detail, TlsRptReport? stored)
    {
        if (metrics is null)
            return (outcome, detail);
        metrics.TlsRptReports.Add(1, Observability.PortcullisMetrics.Tags("outcome", outcome.ToString().ToLowerInvariant()));
        foreach (var p in stored?.Policies ?? [])
        {
            metrics.TlsRptSessions.Add(p.Successful, new System.Diagnostics.TagList { { "policy_domain", p.PolicyDomain }, { "result", "success" } });
            metrics.TlsRptSessions.Add(p.Failed, new System.Diagnostics.TagList { { "policy_domain", p.PolicyDomain }, { "result", "failure" } });
            foreach (var f in p.Failures)
                metrics.TlsRptFailures.Add(f.FailedSessions, new System.Diagnostics.TagList { { "policy_domain", p.PolicyDomain }, { "result_type", f.ResultType } });
        }
        return (outcome, detail);
    }

    /// <summary>File names a plain directory is searched for (recursively).</summary>
    public static readonly string[] ReportFileSuffixes = [".json", ".json.gz", ".eml"];

    /// <summary>
    /// Imports a .json, .json.gz or mail file; every message of a Maildir (a directory with new/ or
    /// cur/); or every report file (<see cref="ReportFileSuffixes"/>) below any other directory.
    /// </summary>
    public IEnumerable<(string Source, ReceiveOutcome Outcome, string Detail)> Import(string path)
    {
        if (Directory.Exists(path))
        {
            bool maildir = Directory.Exists(Path.Combine(path, "new")) || Directory.Exists(Path.Combine(path, "cur"));
            var files = maildir
                ? new[] { "new", "cur" }.Select(d => Path.Combine(path, d)).Where(Directory.Exists).SelectMany(Directory.EnumerateFiles)
                : Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                    .Where(f => ReportFileSuffixes.Any(x => f.EndsWith(x, StringComparison.OrdinalIgnoreCase)));
            int found = 0;
            foreach (string f in files.Order(StringComparer.Ordinal))
            {
                found++;
                foreach (var r in maildir ? ImportMail(f) : Import(f))
                    yield return r;
            }
            if (found == 0)
                yield return (path, ReceiveOutcome.Invalid, maildir ? "the Maildir holds no messages"
                    : $"no {string.Join(", ", ReportFileSuffixes)} files in this directory or below (and it is not a Maildir)");
            yield break;
        }
        byte[] bytes;
        string? readError = null;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bytes = [];
            readError = "cannot read: " + ex.Message;
        }
        if (readError is not null)
        {
            yield return (path, ReceiveOutcome.Invalid, readError);
            yield break;
        }
        bool json = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            || (bytes.Length > 1 && (bytes[0] == (byte)'{' || (bytes[0] == 0x1f && bytes[1] == 0x8b)));
        if (json)
        {
            var (o, d) = Receive(bytes);
            yield return (path, o, d);
        }
        else
        {
            foreach (var r in ImportMail(path))
                yield return r;
        }
    }

    private IEnumerable<(string, ReceiveOutcome, string)> ImportMail(string file)
    {
        using var stream = File.OpenRead(file);
        int found = 0;
        foreach (var (json, error) in ReportInput.FromMail(stream))
        {
            found++;
            if (json is null)
            {
                yield return (file, ReceiveOutcome.Invalid, error!);
                continue;
            }
            var (o, d) = Receive(json, null);
            yield return (file, o, d);
        }
        if (found == 0)
            yield return (file, ReceiveOutcome.Invalid, "no application/tlsrpt+gzip or +json part in this message");
    }
}
