using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.TlsRpt;
using Portcullis.Hosting.OperatorConsole;
using Portcullis.Observability;

namespace Portcullis.Tests.Hosting;

public sealed class OperatorConsoleTests
{
    private static HttpRequest Request(string? authorization)
    {
        var http = new DefaultHttpContext();
        if (authorization is not null)
            http.Request.Headers.Authorization = authorization;
        return http.Request;
    }

    private static string Basic(string pair) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pair));

    [Theory]
    [InlineData(null, false)]
    [InlineData("Bearer s3cret", true)]
    [InlineData("bearer   s3cret  ", true)]
    [InlineData("Bearer s3cre", false)]          // a prefix is not the token
    [InlineData("Bearer s3cret2", false)]
    [InlineData("s3cret", false)]                // no scheme
    [InlineData("Basic !!notbase64", false)]
    public void A_token_console_accepts_only_its_token(string? header, bool allowed) =>
        Assert.Equal(allowed, ConsoleAuth.FromSecrets("s3cret", null).Allows(Request(header)));

    [Fact]
    public void A_password_console_accepts_only_its_user_and_password()
    {
        var auth = ConsoleAuth.FromSecrets(null, "admin:pa:ss");
        Assert.True(auth.Required);
        Assert.True(auth.Allows(Request(Basic("admin:pa:ss")))); // the password may hold a colon
        Assert.False(auth.Allows(Request(Basic("admin:pa"))));
        Assert.False(auth.Allows(Request(Basic("root:pa:ss"))));
        Assert.False(auth.Allows(Request("Bearer admin:pa:ss"))); // no token configured: a bearer is never enough
        Assert.False(ConsoleAuth.Open.Required);
        Assert.True(ConsoleAuth.Open.Allows(Request(null)));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("::1", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("console.example", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    public void Without_a_credential_only_literal_hosts_are_served(string host, bool served) =>
        Assert.Equal(served, ConsoleEndpoints.IsLiteralHost(host));

    [Theory]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("[192.0.2.1]", null)]
    [InlineData(".example.com", null)]
    [InlineData("a..b", null)]
    [InlineData("", null)]
    public void Domains_are_keyed_as_the_socketmap_keys_them(string input, string? key) =>
        Assert.Equal(key, ConsoleEndpoints.Domain(input));

    [Fact]
    public void Counts_cover_the_last_hour_and_day_and_then_age_out()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 30, TimeSpan.Zero));
        using var metrics = new PortcullisMetrics();
        using var stats = new ConsoleStats(time);
        void Query(string answer) => metrics.Queries.Add(1, new System.Diagnostics.TagList { { "map", "QUERY" }, { "answer", answer } });
        Query("dane-only");
        time.Advance(TimeSpan.FromMinutes(90));
        Query("dane-only");
        Query("notfound");
        metrics.StoreFailures.Add(1);
        Assert.Equal([new WindowCount("dane-only", 1, 2), new WindowCount("notfound", 1, 1)], stats.Counts("portcullis_queries_total"));
        Assert.Equal([new WindowCount("", 1, 1)], stats.Counts("portcullis_cache_store_failures_total"));
        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal([new WindowCount("dane-only", 0, 1), new WindowCount("notfound", 0, 1)], stats.Counts("portcullis_queries_total"));
        time.Advance(TimeSpan.FromHours(2));
        Assert.All(stats.Counts("portcullis_queries_total"), c => Assert.Equal(0, c.LastDay));
        Assert.Equal(TimeSpan.FromMinutes(90) + TimeSpan.FromHours(25), time.GetUtcNow() - stats.StartedAt);
    }

    [Fact]
    public void A_domain_has_a_value_for_every_day_from_its_first_to_its_last_report()
    {
        var d1 = new DateOnly(2026, 11, 1);
        SummaryRow Row(DateOnly day, string type, long ok, long failed, params (string, long, IReadOnlyList<string>)[] f) =>
            new("own.example", type, day, ok, failed, f, ["Reporter"]);
        var view = TlsRptViews.Domain("own.example", [
            Row(d1, "sts", 999, 1, ("certificate-expired", 1, ["192.0.2.1"])),
            Row(d1, "tlsa", 10, 0),
            Row(d1.AddDays(3), "sts", 5, 2, ("certificate-expired", 2, ["192.0.2.2"]), ("starttls-not-supported", 0, [])),
        ]);
        Assert.Equal([new ReceivedDay(d1, 1009, 1), new ReceivedDay(d1.AddDays(1), 0, 0), new ReceivedDay(d1.AddDays(2), 0, 0),
            new ReceivedDay(d1.AddDays(3), 5, 2)], view.Days);
        Assert.Equal((1014L, 3L), (view.Successful, view.Failed));
        Assert.Equal(["sts", "tlsa"], view.PolicyTypes);
        var expired = view.FailureTypes[0];
        Assert.Equal(("certificate-expired", 3L), (expired.ResultType, expired.Sessions));
        Assert.Equal(["192.0.2.1", "192.0.2.2"], expired.SendingIps);
        Assert.Empty(TlsRptViews.Domain("none.example", []).Days);
    }
}
