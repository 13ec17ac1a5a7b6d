using Microsoft.Extensions.Logging;
using Portcullis.Core.TlsRpt;
using Portcullis.Core.TlsRpt.Sending;
using Portcullis.Storage.Reports;

namespace Portcullis.TlsRpt;

public enum ReceiveOutcome { Stored, Duplicate, Invalid, OverQuota, Unavailable }

/// <summary>
/// Decode, validate, store: shared by the HTTPS endpoint and the mail import. A failing store (a full
/// disk, a database down) is logged once per outage and left alone for <see cref="StoreRetry"/>;
/// then the next report tries again, so the receiver recovers without a restart.
/// </summary>
/// <param name="labelDomains">Policy domains that get their own metric label (the operator's); all others are "other".</param>
public sealed class ReportReceiver(IReportStore store, TimeProvider time, Observability.PortcullisMetrics? metrics = null,
    ILogger? log = null, IReadOnlySet<string>? labelDomains = null, long quotaBytes = 0)
{
    public static readonly TimeSpan StoreRetry = TimeSpan.FromSeconds(5);
    private int _storeDown, _overQuota;
    private long _retryTicks;

    /// <param name="scratch">See <see cref="ReportInput.Decode"/>.</param>
    public (ReceiveOutcome Outcome, string Detail) Receive(ReadOnlyMemory<byte> body, byte[]? scratch = null)
    {
        var (json, error) = ReportInput.Decode(body, scratch);
        if (json is null)
            return Count(ReceiveOutcome.Invalid, error!, null);
        // Typed null: a bare null would become an empty ReadOnlyMemory (through byte[]) and the report be kept empty.
        return Receive(json.Value, ReportInput.IsGzip(body.Span) ? body : (ReadOnlyMemory<byte>?)null);
    }

    private (ReceiveOutcome, string) Receive(ReadOnlyMemory<byte> json, ReadOnlyMemory<byte>? gzip)
    {
        var (report, error) = TlsRptParser.Parse(json, policyStrings: false);
        if (report is null)
            return Count(ReceiveOutcome.Invalid, error!, null);
        if (time.GetUtcNow().UtcTicks < Interlocked.Read(ref _retryTicks))
            return Count(ReceiveOutcome.Unavailable, "report store unavailable; retry later", null);
        StoreResult result;
        try
        {
            result = store.Add(report, gzip ?? ReportInput.Gzip(json.Span), time.GetUtcNow());
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or TimeoutException or UnauthorizedAccessException)
        {
            Interlocked.Exchange(ref _retryTicks, (time.GetUtcNow() + StoreRetry).UtcTicks);
            if (Interlocked.Exchange(ref _storeDown, 1) == 0)
                log?.LogError("TLS-RPT report store unavailable ({Error}); answering 503, retrying every {Retry} s", ex.Message, StoreRetry.TotalSeconds);
            return Count(ReceiveOutcome.Unavailable, "report store unavailable; retry later", null);
        }
        if (Interlocked.Exchange(ref _storeDown, 0) == 1)
            log?.LogInformation("TLS-RPT report store is available again");
        switch (result)
        {
            case StoreResult.OverQuota:
                if (Interlocked.Exchange(ref _overQuota, 1) == 0)
                    log?.LogError("TLS-RPT report store is full (tlsrpt.receive_quota_mb: {Quota} MB); refusing reports with 507 until there is room",
                        quotaBytes / (1024 * 1024));
                return Count(ReceiveOutcome.OverQuota, "report store full; not stored", null);
            case StoreResult.Duplicate:
                return Count(ReceiveOutcome.Duplicate, $"report {report.ReportId} already stored", null);
            default:
                if (Interlocked.Exchange(ref _overQuota, 0) == 1)
                    log?.LogInformation("TLS-RPT report store has room again");
                return Count(ReceiveOutcome.Stored, $"report {report.ReportId} from {report.OrganizationName}", report);
        }
    }

    private (ReceiveOutcome, string) Count(ReceiveOutcome outcome, string detail, TlsRptReport? stored)
    {
        if (metrics is null)
            return (outcome, detail);
        metrics.TlsRptReports.Add(1, Observability.PortcullisMetrics.Tags("outcome", Outcome(outcome)));
        // Labels come from fixed sets only: a report's own names would be an unbounded series count.
        foreach (var p in stored?.Policies ?? [])
        {
            string domain = labelDomains?.Contains(p.PolicyDomain) == true ? p.PolicyDomain : "other";
            metrics.TlsRptSessions.Add(p.Successful, new System.Diagnostics.TagList { { "policy_domain", domain }, { "result", "success" } });
            metrics.TlsRptSessions.Add(p.Failed, new System.Diagnostics.TagList { { "policy_domain", domain }, { "result", "failure" } });
            foreach (var f in p.Failures)
            {
                metrics.TlsRptFailures.Add(f.FailedSessions,
                    new System.Diagnostics.TagList { { "policy_domain", domain }, { "result_type", ResultTypes.Label(f.ResultType) } });
            }
        }
        return (outcome, detail);
    }

    public static string Outcome(ReceiveOutcome o) => o switch
    {
        ReceiveOutcome.OverQuota => "over_quota",
        _ => o.ToString().ToLowerInvariant(),
    };

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
            var (o, d) = Receive(json.Value, null);
            yield return (file, o, d);
        }
        if (found == 0)
            yield return (file, ReceiveOutcome.Invalid, "no application/tlsrpt+gzip or +json part in this message");
    }
}
