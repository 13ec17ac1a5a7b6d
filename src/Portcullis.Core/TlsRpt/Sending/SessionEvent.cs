namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>One TLS session outcome as Postfix reports it through libtlsrpt: a delivery attempt to
/// <see cref="Domain"/>, with the <c>_smtp._tls</c> record Postfix found and each policy applied.</summary>
public sealed record SessionEvent(string Domain, string PolicyRecord, IReadOnlyList<SessionPolicy> Policies);

/// <summary>A policy of one session: its identity (type, domain, strings, mx patterns), whether the
/// session failed under it, and the failure details.</summary>
public sealed record SessionPolicy(string PolicyType, string PolicyDomain, IReadOnlyList<string> PolicyStrings,
    IReadOnlyList<string> MxHosts, bool Failed, IReadOnlyList<SessionFailure> Failures)
{
    /// <summary>Stable identity of the policy, so sessions under the same policy are counted together.</summary>
    public string Key => string.Join('\u001f', [PolicyType, PolicyDomain, .. PolicyStrings, "\u001e", .. MxHosts]);
}

/// <summary>One failure detail (RFC 8460 §4.4 failure-details), before counting.</summary>
public sealed record SessionFailure(string ResultType, string? SendingMtaIp, string? ReceivingMxHostname,
    string? ReceivingMxHelo, string? ReceivingIp, string? AdditionalInformation, string? FailureReasonCode)
{
    public string Key => string.Join('\u001f', ResultType, SendingMtaIp, ReceivingMxHostname, ReceivingMxHelo, ReceivingIp,
        AdditionalInformation, FailureReasonCode);
}
