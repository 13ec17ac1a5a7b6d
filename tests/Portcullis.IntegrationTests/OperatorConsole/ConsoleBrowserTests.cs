using System.Globalization;
using System.Text.Json.Nodes;

namespace Portcullis.IntegrationTests.OperatorConsole;

/// <summary>
/// The console in Debian's Chromium (playwright-core, tests/browser/console.mjs): sign-in with the token, every view
/// with no console errors showing what the world produced, a purge that removes the entry, a chart with one bar per
/// day and a visible bar for a 1-in-1000 failure day, and report content that stays text. Screenshots of every view
/// are kept ($PORTCULLIS_ARTIFACTS/console or tests/browser/artifacts).
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleWorldFixture world) : IClassFixture<ConsoleWorldFixture>
{
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(10)).Token;

    private static JsonObject Act(string kind, params string[] args) =>
        new() { [kind] = args.Length == 1 ? args[0] : new JsonArray([.. args.Select(a => (JsonNode?)a)]) };

    private static string Ready(string view, string inner = "") => $"main[data-view='{view}'][aria-busy='false'] {inner}".TrimEnd();

    private string Day(int ago) => world.Today.AddDays(-ago).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Every_view_shows_the_worlds_data_in_a_real_browser_behind_the_token()
    {
        string own = ConsoleWorldFixture.OwnDomain, dane = ConsoleWorldFixture.DaneDomain;
        const string Text = "document.querySelector('main').innerText";
        var steps = new BrowserStep[]
        {
            new("no token", Goto: "/#/overview", WaitFor: "#login", Evaluate: Text),
            new("wrong token", Actions: [Act("fill", "#login-secret", "not-the-token"), Act("click", "#login button")],
                WaitFor: "main p.error", Evaluate: Text),
            new("overview", Actions: [Act("fill", "#login-secret", ConsoleWorldFixture.Token), Act("click", "#login button")],
                WaitFor: Ready("overview", ".cards"), Evaluate: Text, Screenshot: "overview.png"),
            new("cache", Goto: "/#/cache?q=dane", WaitFor: Ready("cache", "#cache-count"), Evaluate: Text, Screenshot: "cache.png"),
            new("domain", Goto: $"/#/domain?name={dane}", WaitFor: Ready("domain", "#verdict"),
                Evaluate: """
                    ({ verdict: document.querySelector('#verdict').textContent, answer: document.querySelector('#postfix-answer').textContent,
                       hosts: document.querySelectorAll('.dane-host').length, reply: document.querySelector('#cache-reply')?.textContent ?? null,
                       text: document.querySelector('main').innerText })
                    """, Screenshot: "domain.png"),
            new("purge", Actions: [Act("click", "#purge"), Act("waitText", "#action-status", "purged")], WaitFor: "#cache-empty",
                Evaluate: "document.querySelector('#action-status').textContent"),
            new("received", Goto: "/#/received", WaitFor: Ready("received", $"section[data-domain='{own}'] svg"),
                Evaluate: $$"""
                  (() => {
                    const own = document.querySelector("section[data-domain='{{own}}']");
                    const bars = s => [...own.querySelectorAll(`rect[data-series='${s}']`)];
                    const hostile = document.querySelector("section[data-domain='{{ConsoleWorldFixture.HostileDomain}}']");
                    return { successful: bars('successful').length, failed: bars('failed').map(r => ({ day: r.dataset.day, value: Number(r.dataset.value),
                        height: r.getBoundingClientRect().height })), legend: own.querySelector('.legend').textContent,
                      axes: [...own.querySelectorAll('svg text')].map(t => t.textContent), hostile: hostile ? hostile.textContent : null,
                      pwned: window.__pwned ?? null, injected: document.querySelectorAll('main script, main img, main iframe').length };
                  })()
                  """, Screenshot: "received.png"),
            new("hover", Actions: [Act("hover", $"section[data-domain='{own}'] rect[data-series='failed'][data-day='{Day(ConsoleWorldFixture.OneInThousandDay)}']")],
                WaitFor: "#tip:not([hidden])", Evaluate: "document.querySelector('#tip').textContent"),
            new("sent", Goto: "/#/sent", WaitFor: Ready("sent", "table"), Evaluate: Text, Screenshot: "sent.png"),
            new("own", Goto: "/#/own", WaitFor: Ready("own", "table"), Evaluate: Text, Screenshot: "own.png"),
        };
        var results = (await BrowserDriver.RunAsync(world.BaseUrl, steps, _ct)).ToDictionary(r => r.Name);
        foreach (var r in results.Values)
        {
            Assert.True(r.Error is null, $"step '{r.Name}': {r.Error}");
            // Signing in is the only time the API answers 401, which Chromium logs as a failed resource.
            var errors = r.Name is "no token" or "wrong token" ? r.Errors.Where(e => !e.Contains("401", StringComparison.Ordinal)) : r.Errors;
            Assert.True(!errors.Any(), $"step '{r.Name}' logged: {string.Join(" | ", r.Errors)}");
        }

        // The token is enforced: no data without it, a wrong one is refused, the right one opens every view.
        Assert.Contains("Sign in", S(results["no token"]));
        Assert.DoesNotContain("cached domains", S(results["no token"]));
        Assert.Contains("not accepted", S(results["wrong token"]));
        string overview = S(results["overview"]);
        Assert.Contains("validating", overview);
        Assert.Contains("dane-only", overview); // the answer kind of the query the fixture made

        Assert.Contains(dane, S(results["cache"]));
        Assert.Contains("OK dane-only", S(results["cache"]));

        var domain = results["domain"].Value!;
        Assert.Equal("DaneOnly", domain["verdict"]!.GetValue<string>());
        Assert.Equal("OK dane-only", domain["answer"]!.GetValue<string>());
        Assert.Equal(1, domain["hosts"]!.GetValue<int>());
        Assert.Equal("OK dane-only", domain["reply"]!.GetValue<string>());
        string evidence = domain["text"]!.GetValue<string>();
        Assert.Contains($"MX host mx.{dane}", evidence);
        Assert.Contains("3 1 1 " + ConsoleWorldFixture.Sha256.ToUpperInvariant()[..8], evidence.ToUpperInvariant());
        Assert.Contains("usable", evidence);

        Assert.Contains("purged", S(results["purge"]));
        using (var http = Api())
        {
            string cache = await http.GetStringAsync($"{world.BaseUrl}/api/cache?q={dane}", _ct);
            Assert.Contains("\"total\":0", cache); // gone from the daemon, not only from the page
        }

        var received = results["received"].Value!;
        Assert.Equal(ConsoleWorldFixture.ReportDays, received["successful"]!.GetValue<int>());
        var failed = received["failed"]!.AsArray();
        var rare = failed.Single(f => f!["day"]!.GetValue<string>() == Day(ConsoleWorldFixture.OneInThousandDay))!;
        Assert.Equal(1, rare["value"]!.GetValue<int>());
        Assert.True(rare["height"]!.GetValue<double>() >= 3, $"the 1-in-1000 failure bar is {rare["height"]} px high");
        Assert.Equal(2, failed.Count); // only days with failures draw a failure bar
        Assert.Contains("successful sessions", received["legend"]!.GetValue<string>());
        Assert.Contains("failed sessions", received["legend"]!.GetValue<string>());
        var axes = received["axes"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Contains("successful / day", axes);
        Assert.Contains("failed / day", axes);
        Assert.Contains(Day(ConsoleWorldFixture.OneInThousandDay)[5..], axes);
        Assert.Contains("1 failed of 1,000", S(results["hover"]));

        // Report content is text: the markup shows literally and nothing of it ran or was inserted.
        Assert.Null(received["pwned"]);
        Assert.Equal(0, received["injected"]!.GetValue<int>());
        Assert.Contains("<script>window.__pwned=2</script>", received["hostile"]!.GetValue<string>());

        Assert.Contains("peer.example", S(results["sent"]));
        Assert.Contains("pending", S(results["sent"]));
        string ownView = S(results["own"]);
        Assert.Contains(own, ownView);
        Assert.Contains("testing", ownView);
        Assert.Contains("mta-sts." + own, ownView);
        Assert.Contains(ConsoleWorldFixture.CertificateDays.ToString(CultureInfo.InvariantCulture), ownView);
        foreach (string png in new[] { "overview.png", "cache.png", "domain.png", "received.png", "sent.png", "own.png" })
            Assert.True(new FileInfo(Path.Combine(BrowserDriver.Artifacts, png)).Length > 10_000, png);
    }

    [Fact]
    public async Task The_api_needs_the_token_and_the_report_listener_serves_none_of_the_console()
    {
        using var anonymous = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var wrong = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", ConsoleWorldFixture.Token + "x");
        using var basic = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        basic.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("admin:"u8.ToArray().Concat(System.Text.Encoding.UTF8.GetBytes(ConsoleWorldFixture.Token)).ToArray()));
        using var api = Api();
        string[] endpoints = ["/api/overview", "/api/cache", $"/api/domain?name={ConsoleWorldFixture.DaneDomain}", "/api/tlsrpt/received", "/api/tlsrpt/sent", "/api/domains"];
        foreach (string path in endpoints)
        {
            foreach (var client in new[] { anonymous, wrong, basic }) // basic is not configured here: the token is the only key
            {
                using var refused = await client.GetAsync(world.BaseUrl + path, _ct);
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.Contains("Bearer", refused.Headers.WwwAuthenticate.ToString());
                Assert.DoesNotContain(ConsoleWorldFixture.OwnDomain, await refused.Content.ReadAsStringAsync(_ct));
            }
            using var ok = await api.GetAsync(world.BaseUrl + path, _ct);
            Assert.True(ok.IsSuccessStatusCode, $"{path}: {(int)ok.StatusCode} {await ok.Content.ReadAsStringAsync(_ct)}");
            Assert.Equal("application/json", ok.Content.Headers.ContentType?.MediaType);
        }
        // A state change needs the token and the console's own header (which a cross-site form cannot send).
        string purge = $"{world.BaseUrl}/api/domain/purge?name=nothing-cached.example";
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.PostAsync(purge, null, _ct)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await api.PostAsync(purge, null, _ct)).StatusCode);
        using (var withHeader = new HttpRequestMessage(HttpMethod.Post, purge))
        {
            withHeader.Headers.Add("X-Portcullis-Console", "1");
            using var r = await api.SendAsync(withHeader, _ct);
            Assert.Equal("{\"domain\":\"nothing-cached.example\",\"purged\":0}", await r.Content.ReadAsStringAsync(_ct));
        }
        using (var bad = await api.GetAsync($"{world.BaseUrl}/api/domain?name=not_a..domain", _ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("{\"error\":\"not a domain name: not_a..domain\"}", await bad.Content.ReadAsStringAsync(_ct));
        }
        // The page itself carries no data and runs only the console's own scripts.
        using (var page = await anonymous.GetAsync(world.BaseUrl + "/", _ct))
        {
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.DoesNotContain(ConsoleWorldFixture.OwnDomain, await page.Content.ReadAsStringAsync(_ct));
        }
        // The public report listener: only report POSTs; the console, its files and its API are not there, token or not.
        foreach (string path in new[] { "/", "/app.js", "/api/overview", "/api/tlsrpt/received" })
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetAsync($"http://127.0.0.1:{world.ReportPort}{path}", _ct)).StatusCode);
    }

    private static string S(BrowserResult r) => r.Value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? r.Value.GetValue<string>() : r.Value?.ToJsonString() ?? "";

    private static HttpClient Api()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", ConsoleWorldFixture.Token);
        return http;
    }
}
