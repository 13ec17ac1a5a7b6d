using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.TlsRpt.Sending;

/// <summary>A report ready to send: RFC 8460 JSON, its gzip form and the §5.3 names.</summary>
public sealed record OutgoingReport(string ReportId, string Domain, DateOnly Day, string Submitter, string Json)
{
    public byte[] Gzip { get; } = ReportDocument.Gzip(Json);
    public string FileName => ReportDocument.FileName(Submitter, Domain, Day, ReportId.Split('@')[0]);
    public string Subject => ReportDocument.Subject(Domain, Submitter, ReportId);
}
