using System.Globalization;
using System.Text.Json;

namespace Portcullis.Core.TlsRpt;

/// <summary>
/// Parses RFC 8460 report JSON tolerantly where real senders differ (missing optional fields,
/// <c>mx-host</c> as a string or an array, <c>contact-info</c> null, <c>policy-string</c> absent)
/// and strictly where the RFC requires a field. Results are values; malformed input never throws.
/// </summary>
public static class TlsRptParser
{
    private static readonly string[] PolicyTypes = ["tlsa", "sts", "no-policy-found"];

    /// <summary>Largest session count believed (10^12, far above any real day): larger ones make the report
    /// invalid, so sums of counts cannot overflow.</summary>
    public const long MaxSessionCount = 1_000_000_000_000;

    /// <summary>Policies in one report: a report covers one policy domain (its STS policy and TLSA records).</summary>
    public const int MaxPolicies = 100;

    /// <summary>Failure-details entries in one report, over all its policies.</summary>
    public const int MaxFailureDetails = 10_000;

    /// <summary>Longest policy-domain and result-type (a DNS name has at most 253 characters).</summary>
    public const int MaxNameLength = 253;

    /// <summary>JSON tokens in one report: enough for <see cref="MaxFailureDetails"/> detailed entries. Counted
    /// before the document is built, so a report of a million tiny values costs no DOM of that size.</summary>
    public const int MaxJsonTokens = 300_000;

    /// <param name="policyStrings">False: leave PolicyStrings and MxHosts empty. Storing needs neither (the raw
    /// report is kept), and they are most of a large report's text: not turning them into strings keeps a flood of
    /// large reports off the managed heap.</param>
    public static (TlsRptReport? Report, string? Error) Parse(ReadOnlyMemory<byte> json, bool policyStrings = true) =>
        JsonInput.CountTokens(json.Span, MaxJsonTokens) > MaxJsonTokens
            ? (null, $"more than {MaxJsonTokens} JSON values in one report")
            : JsonInput.Parse(json, 16, root => Report(root, policyStrings));

    private static (TlsRptReport?, string?) Report(JsonElement root, bool policyStrings)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return (null, "the report is not a JSON object");
        if (Str(root, "organization-name") is not { } org)
            return (null, "missing organization-name");
        if (Str(root, "report-id") is not { } id)
            return (null, "missing report-id");
        if (!root.TryGetProperty("date-range", out var range) || range.ValueKind != JsonValueKind.Object
            || Time(range, "start-datetime") is not { } start || Time(range, "end-datetime") is not { } end)
            return (null, "missing or malformed date-range (start-datetime, end-datetime)");
        if (!root.TryGetProperty("policies", out var policies) || policies.ValueKind != JsonValueKind.Array)
            return (null, "missing policies array");
        var list = new List<TlsRptPolicy>();
        if (policies.GetArrayLength() > MaxPolicies)
            return (null, $"more than {MaxPolicies} policies in one report");
        int n = 0, detailCount = 0;
        foreach (var p in policies.EnumerateArray())
        {
            n++;
            if (!p.TryGetProperty("policy", out var pol) || pol.ValueKind != JsonValueKind.Object)
                return (null, $"policies[{n - 1}]: missing policy object");
            string? type = Str(pol, "policy-type")?.ToLowerInvariant();
            if (type is null || !PolicyTypes.Contains(type))
                return (null, $"policies[{n - 1}]: policy-type must be tlsa, sts or no-policy-found");
            if (Str(pol, "policy-domain") is not { } domain)
                return (null, $"policies[{n - 1}]: missing policy-domain");
            if (domain.Length > MaxNameLength)
                return (null, $"policies[{n - 1}]: policy-domain longer than {MaxNameLength} characters");
            if (!p.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.Object
                || Num(summary, "total-successful-session-count") is not { } ok || Num(summary, "total-failure-session-count") is not { } failed)
                return (null, $"policies[{n - 1}]: missing summary counts");
            if (Math.Max(ok, failed) > MaxSessionCount)
                return (null, $"policies[{n - 1}]: session count {Math.Max(ok, failed)} is above {MaxSessionCount}");
            var failures = new List<TlsRptFailure>();
            if (p.TryGetProperty("failure-details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                detailCount += details.GetArrayLength();
                if (detailCount > MaxFailureDetails)
                    return (null, $"more than {MaxFailureDetails} failure-details entries in one report");
                foreach (var f in details.EnumerateArray())
                {
                    if (f.ValueKind != JsonValueKind.Object || Str(f, "result-type") is not { } rt)
                        return (null, $"policies[{n - 1}]: failure-details entry without result-type");
                    if (rt.Length > MaxNameLength)
                        return (null, $"policies[{n - 1}]: result-type longer than {MaxNameLength} characters");
                    long count = Num(f, "failed-session-count") ?? 0;
                    if (count > MaxSessionCount)
                        return (null, $"policies[{n - 1}]: failed-session-count {count} is above {MaxSessionCount}");
                    failures.Add(new TlsRptFailure(rt, Str(f, "sending-mta-ip"), Str(f, "receiving-mx-hostname"), Str(f, "receiving-ip"),
                        count, Str(f, "failure-reason-code")));
                }
            }
            list.Add(new TlsRptPolicy(type, domain.TrimEnd('.').ToLowerInvariant(),
                policyStrings ? Strings(pol, "policy-string") : [], policyStrings ? Strings(pol, "mx-host") : [],
                ok, failed, failures));
        }
        return (new TlsRptReport(org, start, end, Str(root, "contact-info"), id, list), null);
    }

    private static string? Str(JsonElement e, string name) => JsonInput.Str(e, name);

    private static long? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) && n >= 0 ? n
        : e.TryGetProperty(name, out v) && v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n
        : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    // RFC erratum 6241: mx-host is an array; some senders still send one string.
    private static IReadOnlyList<string> Strings(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
            return [];
        return v.ValueKind switch
        {
            JsonValueKind.String => [v.GetString()!],
            JsonValueKind.Array => [.. v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)],
            _ => [],
        };
    }
}
