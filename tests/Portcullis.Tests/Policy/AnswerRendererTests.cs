using System.Text;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;

namespace Portcullis.Tests.Policy;

public sealed class AnswerRendererTests
{
    private static StsPolicy Parse(string body) => StsPolicyParser.Parse(Encoding.UTF8.GetBytes(body)).Policy!;

    private static readonly StsPolicy Reference = Parse(
        "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.backup.example.com\nmax_age: 86400\n");

    private static PolicyAnswer Enforce(StsPolicy p) => new(Verdict.StsEnforce, "test") { Domain = "example.com", Policy = p };

    private static string R(PolicyAnswer a, bool tlsrpt, RenderOptions? o = null) =>
        AnswerRenderer.Render(a, tlsrpt, o ?? RenderOptions.Default).ToString();

    [Fact]
    public void Reference_answers_match_the_checklist()
    {
        Assert.Equal("OK secure match=mail.example.com:.backup.example.com servername=hostname", R(Enforce(Reference), false));
        Assert.Equal(
            "OK secure match=mail.example.com:.backup.example.com servername=hostname policy_type=sts policy_domain=example.com " +
            "mx_host_pattern=mail.example.com mx_host_pattern=*.backup.example.com { policy_string = version: STSv1 } " +
            "{ policy_string = mode: enforce } { policy_string = mx: mail.example.com } { policy_string = mx: *.backup.example.com } " +
            "{ policy_string = max_age: 86400 }",
            R(Enforce(Reference), true));
    }

    [Fact]
    public void Match_patterns_keep_order_and_drop_duplicates_but_every_mx_line_is_reported()
    {
        var p = Parse("version: STSv1\nmode: enforce\nmx: b.example\nmx: *.a.example\nmx: B.example\nmx: *.a.example\nmax_age: 60\n");
        Assert.Equal(["b.example", ".a.example"], AnswerRenderer.MatchPatterns(p));
        string rpt = R(Enforce(p), true);
        Assert.StartsWith("OK secure match=b.example:.a.example servername=hostname", rpt);
        Assert.Equal(4, rpt.Split("mx_host_pattern=").Length - 1);
    }

    [Fact]
    public void Braces_in_policy_lines_are_never_copied()
    {
        var p = Parse("version: STSv1\nmode: enforce\nmx: m.example\nmax_age: 60\nx-note: a } policy_failure=validation-failure {\n");
        string rpt = R(Enforce(p), true);
        Assert.DoesNotContain("x-note", rpt);
        Assert.Equal(4, rpt.Split("policy_string").Length - 1);
    }

    public static TheoryData<Verdict, bool, string> Simple => new()
    {
        { Verdict.DaneOnly, false, "OK dane-only" },
        { Verdict.DaneOnly, true, "OK dane-only" },
        { Verdict.Dane, true, "OK dane" },
        { Verdict.NoPolicy, false, "NOTFOUND " },
        { Verdict.NoPolicy, true, "OK dane policy_type=no-policy-found" },
        { Verdict.StsFailure, false, "NOTFOUND " },
        { Verdict.StsFailure, true, "OK dane policy_type=no-policy-found" },
        { Verdict.Temp, false, "TEMP why" },
        { Verdict.Temp, true, "TEMP why" },
    };

    [Theory]
    [MemberData(nameof(Simple))]
    public void Verdicts_render_as_postfix_answers(Verdict v, bool tlsrpt, string expected) =>
        Assert.Equal(expected, R(new PolicyAnswer(v, "why") { Domain = "example.com", Failure = StsFailureType.FetchError }, tlsrpt));

    [Fact]
    public void No_policy_level_is_configurable_and_can_be_notfound()
    {
        var none = PolicyAnswer.NoPolicy("none");
        Assert.Equal("OK may policy_type=no-policy-found", R(none, true, new RenderOptions("may")));
        Assert.Equal("NOTFOUND ", R(none, true, new RenderOptions(null)));
    }

    [Fact]
    public void Policy_failures_are_answered_as_no_policy_never_with_policy_failure()
    {
        var failed = new PolicyAnswer(Verdict.StsFailure, "x")
        { Domain = "example.com", Failure = StsFailureType.WebPkiInvalid, TxtRecord = "v=STSv1; id=1" };
        Assert.Equal("OK dane policy_type=no-policy-found", R(failed, true, new RenderOptions("dane")));
        Assert.Equal("NOTFOUND ", R(failed, false, new RenderOptions("dane")));
    }

    [Fact]
    public void An_oversized_answer_becomes_temp()
    {
        var sb = new StringBuilder("version: STSv1\nmode: enforce\nmax_age: 60\n");
        for (int i = 0; i < 2000; i++)
            sb.Append($"mx: mx{i:D4}.long-name.example\n");
        Assert.InRange(sb.Length, 50_000, StsPolicyParser.MaxBodyBytes);
        var reply = AnswerRenderer.Render(Enforce(Parse(sb.ToString())), true, RenderOptions.Default);
        Assert.Equal(ReplyStatus.Temp, reply.Status);
        Assert.Equal(ReplyStatus.Ok, AnswerRenderer.Render(Enforce(Parse(sb.ToString())), false, RenderOptions.Default).Status);
    }
}
