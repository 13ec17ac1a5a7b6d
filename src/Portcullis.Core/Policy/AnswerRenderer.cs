using System.Text;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Protocol;

namespace Portcullis.Core.Policy;

/// <summary>How answers without a policy look when Postfix asked with TLSRPT attributes.</summary>
/// <param name="NoPolicyLevel">
/// Level sent with <c>policy_type=no-policy-found</c>. An OK answer replaces Postfix's
/// smtp_tls_security_level for that domain, so this must equal it (default <c>dane</c>, which
/// keeps Postfix's own DANE); <c>null</c> answers NOTFOUND and reports nothing.
/// </param>
/// <remarks>
/// No <c>policy_failure=</c> answers: measured with Postfix 3.10.13, a failure with level <c>dane</c> and no
/// TLSA is lowered to <c>may</c> and reported as a successful <c>sts</c> session (README, "TLSRPT attributes").
/// </remarks>
public sealed record RenderOptions(string? NoPolicyLevel = "dane")
{
    public static RenderOptions Default { get; } = new();
}

/// <summary>Turns a <see cref="PolicyAnswer"/> into the socketmap reply Postfix parses (postconf(5)).</summary>
public static class AnswerRenderer
{
    public static SocketmapReply Render(PolicyAnswer answer, bool withTlsRpt, RenderOptions options) =>
        answer.Verdict switch
        {
            // DANE: Postfix does the TLSA work and reports "tlsa" itself; STS attributes are an error here.
            Verdict.DaneOnly => SocketmapReply.Ok("dane-only"),
            Verdict.Dane => SocketmapReply.Ok("dane"),
            Verdict.StsEnforce when answer.Policy is not null && answer.Domain is not null =>
                SocketmapReply.Ok(RenderSecure(answer.Domain, answer.Policy, withTlsRpt)),
            Verdict.NoPolicy or Verdict.StsFailure when withTlsRpt && options.NoPolicyLevel is { } level =>
                SocketmapReply.Ok(level + " policy_type=no-policy-found"),
            Verdict.NoPolicy or Verdict.StsFailure => SocketmapReply.NotFound,
            Verdict.Temp => SocketmapReply.Temp(answer.Reason),
            _ => SocketmapReply.Temp("internal error: incomplete answer"),
        };

    /// <summary>Postfix <c>match=</c> patterns: <c>*.x</c> becomes <c>.x</c>, order kept, duplicates dropped.</summary>
    public static IReadOnlyList<string> MatchPatterns(StsPolicy policy)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<string>(policy.MxPatterns.Count);
        foreach (string mx in policy.MxPatterns)
        {
            string p = mx.StartsWith("*.", StringComparison.Ordinal) ? mx[1..] : mx;
            if (seen.Add(p))
                result.Add(p);
        }
        return result;
    }

    private static string RenderSecure(string domain, StsPolicy policy, bool withTlsRpt)
    {
        var sb = new StringBuilder("secure match=");
        sb.AppendJoin(':', MatchPatterns(policy)).Append(" servername=hostname");
        if (!withTlsRpt)
            return sb.ToString();
        sb.Append(" policy_type=sts policy_domain=").Append(domain);
        foreach (string mx in policy.MxPatterns)
            sb.Append(" mx_host_pattern=").Append(mx);
        foreach (string line in policy.Lines)
            AppendPolicyString(sb, line);
        return sb.ToString();
    }

    // Braces would end Postfix's { name = value } group early and let a policy inject attributes.
    private static void AppendPolicyString(StringBuilder sb, string value)
    {
        if (value.AsSpan().IndexOfAny('{', '}') >= 0 || string.IsNullOrWhiteSpace(value))
            return;
        sb.Append(" { policy_string = ").Append(value).Append(" }");
    }
}
