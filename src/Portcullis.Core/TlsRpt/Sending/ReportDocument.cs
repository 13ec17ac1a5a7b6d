using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Portcullis.Core.TlsRpt.Sending;

/// <summary>Who sends the reports (RFC 8460 §4.4 organization-name, contact-info; §5.3 submitter).</summary>
public sealed record ReporterIdentity(string OrganizationName, string ContactInfo, string Submitter);

/// <summary>
/// Builds the RFC 8460 §4.4 aggregate report for one recipient domain and one UTC day, and the
/// names §5.3 gives it: the attachment file name and the mail subject. Pure.
/// </summary>
public static class ReportDocument
{
    public static DateTimeOffset DayStart(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public static string Json(DateOnly day, string reportId, ReporterIdentity who, IReadOnlyList<PolicyTally> policies)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("organization-name", who.OrganizationName);
            w.WriteStartObject("date-range");
            w.WriteString("start-datetime", Stamp(DayStart(day)));
            w.WriteString("end-datetime", Stamp(DayStart(day).AddDays(1).AddSeconds(-1)));
            w.WriteEndObject();
            w.WriteString("contact-info", who.ContactInfo);
            w.WriteString("report-id", reportId);
            w.WriteStartArray("policies");
            foreach (var t in policies)
                WritePolicy(w, t);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WritePolicy(Utf8JsonWriter w, PolicyTally t)
    {
        w.WriteStartObject();
        w.WriteStartObject("policy");
        w.WriteString("policy-type", t.Policy.PolicyType);
        if (t.Policy.PolicyStrings.Count > 0)
            Strings(w, "policy-string", t.Policy.PolicyStrings);
        w.WriteString("policy-domain", t.Policy.PolicyDomain);
        if (t.Policy.MxHosts.Count > 0)
            Strings(w, "mx-host", t.Policy.MxHosts); // an array (RFC 8460 erratum 6241)
        w.WriteEndObject();
        w.WriteStartObject("summary");
        w.WriteNumber("total-successful-session-count", t.Successful);
        w.WriteNumber("total-failure-session-count", t.Failed);
        w.WriteEndObject();
        if (t.Failures.Count > 0)
        {
            w.WriteStartArray("failure-details");
            foreach (var (f, n) in t.Failures)
            {
                w.WriteStartObject();
                w.WriteString("result-type", f.ResultType);
                Optional(w, "sending-mta-ip", f.SendingMtaIp);
                Optional(w, "receiving-mx-hostname", f.ReceivingMxHostname);
                Optional(w, "receiving-mx-helo", f.ReceivingMxHelo);
                Optional(w, "receiving-ip", f.ReceivingIp);
                w.WriteNumber("failed-session-count", n);
                Optional(w, "additional-information", f.AdditionalInformation);
                Optional(w, "failure-reason-code", f.FailureReasonCode);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// §5.3: <c>submitter!policy-domain!begin-timestamp!end-timestamp[!unique-id].json.gz</c>. The grammar
    /// (§5.1) allows only ALPHA/DIGIT in unique-id, so anything else in it (e.g. the report id's ".") is dropped.
    /// </summary>
    public static string FileName(string submitter, string domain, DateOnly day, string uniqueId)
    {
        string uid = string.Concat(uniqueId.Where(char.IsAsciiLetterOrDigit));
        return string.Create(CultureInfo.InvariantCulture,
            $"{submitter}!{domain}!{DayStart(day).ToUnixTimeSeconds()}!{DayStart(day).AddDays(1).AddSeconds(-1).ToUnixTimeSeconds()}{(uid.Length > 0 ? "!" + uid : "")}.json.gz");
    }

    /// <summary>§5.3: <c>Report Domain: D Submitter: S Report-ID: &lt;ID&gt;</c>.</summary>
    public static string Subject(string domain, string submitter, string reportId) =>
        $"Report Domain: {domain} Submitter: {submitter} Report-ID: <{reportId}>";

    public static byte[] Gzip(string json)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gz.Write(Encoding.UTF8.GetBytes(json));
        return output.ToArray();
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
            w.WriteString(name, value);
    }
}
