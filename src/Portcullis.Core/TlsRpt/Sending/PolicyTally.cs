namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>One policy's sessions on one day for one recipient domain, as a report entry needs them.</summary>
public sealed record PolicyTally(SessionPolicy Policy, long Successful, long Failed, IReadOnlyList<(SessionFailure Failure, long Sessions)> Failures);
