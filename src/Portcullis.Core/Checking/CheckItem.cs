namespace Portcullis.Core.Checking;

public enum CheckStatus { Pass, Info, Warn, Fail }

/// <summary>
/// Which of the fixed checks a finding belongs to. The monitor exports one gauge per kind and own domain,
/// so this set (never text from the network) bounds the <c>check</c> metric label.
/// </summary>
public enum CheckKind { Mx, Dnssec, MtaStsRecord, MtaStsPolicy, MxCoverage, StartTls, Certificate, Tlsa, TlsRptRecord }

/// <summary>One finding of <c>check DOMAIN</c>: what was checked, the outcome, and how to fix it.</summary>
public sealed record CheckItem(string Area, string Title, CheckStatus Status, string Detail, string? Fix = null)
{
    public CheckKind Kind { get; init; }
}
