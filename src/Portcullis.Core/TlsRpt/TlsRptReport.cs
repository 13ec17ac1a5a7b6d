namespace Portcullis.Core.TlsRpt;

/// <summary>An RFC 8460 §4.4 aggregate report, as far as Portcullis uses it.</summary>
public sealed record TlsRptReport(string OrganizationName, DateTimeOffset Start, DateTimeOffset End, string? ContactInfo,
    string ReportId, IReadOnlyList<TlsRptPolicy> Policies);

public sealed record TlsRptPolicy(string PolicyType, string PolicyDomain, IReadOnlyList<string> PolicyStrings,
    IReadOnlyList<string> MxHosts, long Successful, long Failed, IReadOnlyList<TlsRptFailure> Failures);

public sealed record TlsRptFailure(string ResultType, string? SendingMtaIp, string? ReceivingMxHostname, string? ReceivingIp,
    long FailedSessions, string? FailureReasonCode);
