using Portcullis.Core.Checking;

namespace Portcullis.Core.TlsRpt.Sending;

public enum DestinationKind { Mail, Https }

/// <summary>One <c>rua=</c> URI of a <c>_smtp._tls</c> record (RFC 8460 §3).</summary>
public sealed record ReportDestination(DestinationKind Kind, string Address)
{
    public override string ToString() => Kind == DestinationKind.Mail ? "mailto:" + Address : Address;

    /// <summary>The destinations of a record, or why there are none.</summary>
    public static (IReadOnlyList<ReportDestination> Destinations, string? Problem) FromRecord(string record)
    {
        if (TlsRptRecord.Problem([record], out var rua) is { } problem)
            return ([], problem);
        var list = new List<ReportDestination>();
        foreach (string uri in rua)
        {
            if (uri.StartsWith("mailto:", StringComparison.Ordinal))
            {
                // §3: ',' and '!' in a mailto: address are percent-encoded; a ?query is not part of it.
                string addr = uri[7..];
                int q = addr.IndexOf('?', StringComparison.Ordinal);
                addr = Uri.UnescapeDataString(q >= 0 ? addr[..q] : addr);
                if (addr.Count(c => c == '@') != 1 || addr.StartsWith('@') || addr.EndsWith('@') || addr.Any(c => c <= ' ' || c == '<' || c == '>'))
                    return ([], $"rua entry '{uri}' is not a mail address");
                list.Add(new ReportDestination(DestinationKind.Mail, addr));
            }
            else
            {
                list.Add(new ReportDestination(DestinationKind.Https, uri));
            }
        }
        return (list.Distinct().ToList(), null);
    }
}
