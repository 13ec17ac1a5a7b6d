using Portcullis.Core.Checking;

namespace Portcullis.Core.Monitoring;

/// <summary>A check of an own domain that started or stopped failing.</summary>
public sealed record StateChange(string Domain, CheckKind Check, bool Failing, string Detail);

/// <summary>The monitor's decisions as values: per-check summaries, metric label names, and what changed since the last run.</summary>
public static class OwnDomainJudge
{
    public static readonly IReadOnlyList<CheckKind> AllChecks = Enum.GetValues<CheckKind>();

    /// <summary>The <c>check</c> label of <c>portcullis_own_domain_check</c>: a fixed name per kind.</summary>
    public static string Label(CheckKind kind) => kind switch
    {
        CheckKind.Mx => "mx",
        CheckKind.Dnssec => "dnssec",
        CheckKind.MtaStsRecord => "mta_sts_record",
        CheckKind.MtaStsPolicy => "mta_sts_policy",
        CheckKind.MxCoverage => "mx_coverage",
        CheckKind.StartTls => "starttls",
        CheckKind.Certificate => "certificate",
        CheckKind.Tlsa => "tlsa",
        CheckKind.TlsRptRecord => "tlsrpt_record",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Worst status per check (Fail over Warn over Info over Pass); checks without findings are Pass.</summary>
    public static IReadOnlyDictionary<CheckKind, CheckStatus> Summarise(IEnumerable<CheckItem> items)
    {
        var worst = AllChecks.ToDictionary(k => k, _ => CheckStatus.Pass);
        foreach (var i in items)
        {
            if (i.Status > worst[i.Kind])
                worst[i.Kind] = i.Status;
        }
        return worst;
    }

    /// <summary>A run that could not finish: nothing was verified, so every check counts as failing.</summary>
    public static IReadOnlyDictionary<CheckKind, CheckStatus> AllFailing() => AllChecks.ToDictionary(k => k, _ => CheckStatus.Fail);

    /// <summary>
    /// Checks whose failing state differs from the previous run. The first run (no previous) reports only
    /// the failing ones, so a healthy start logs nothing per check and a broken one says what is broken.
    /// </summary>
    public static IReadOnlyList<StateChange> Changes(OwnDomainStatus? previous, OwnDomainStatus current)
    {
        var changes = new List<StateChange>();
        foreach (var kind in AllChecks)
        {
            bool now = current.Failing(kind);
            bool before = previous?.Failing(kind) ?? false;
            if (now != before)
                changes.Add(new StateChange(current.Domain, kind, now, now ? FailureDetail(current, kind) : "passes again"));
        }
        return changes;
    }

    private static string FailureDetail(OwnDomainStatus s, CheckKind kind)
    {
        if (s.Error is not null)
            return s.Error;
        var failed = s.Items.Where(i => i.Kind == kind && i.Status == CheckStatus.Fail).ToList();
        return failed.Count == 0 ? "failing" : string.Join("; ", failed.Take(3).Select(i => $"{i.Title}: {i.Detail}"))
            + (failed.Count > 3 ? $" (+{failed.Count - 3} more)" : "");
    }
}
