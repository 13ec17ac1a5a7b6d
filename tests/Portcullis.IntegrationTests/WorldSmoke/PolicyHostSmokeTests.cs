using System.Diagnostics;
using System.Net;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.WorldSmoke;

public sealed class PolicyHostSmokeTests : IAsyncLifetime
{
    private const string Host = "mta-sts.a.test";
    private static readonly string PolicyBody = HostBehavior.PolicyText("enforce", 86400, "mx.a.test");
    private readonly TestCa _ca = TestCa.Create();
    private PolicyHost _host = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _host = PolicyHost.Start(_ca);
        _client = _host.CreateClient(TimeSpan.FromSeconds(5));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _ca.Dispose();
    }

    private static string Url(string host = Host, string path = "/.well-known/mta-sts.txt") => $"https://{host}{path}";

    [Fact]
    public async Task Serves_policy_with_test_ca_on_port_443_and_records_request()
    {
        _host.Set(Host, HostBehavior.Policy(PolicyBody).WithHeader("ETag", "\"v1\"").WithHeader("Cache-Control", "max-age=60"));
        using var resp = await _client.GetAsync(Url());
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("text/plain", resp.Content.Headers.ContentType?.MediaType);
        Assert.Equal("\"v1\"", resp.Headers.ETag?.Tag);
        Assert.Equal(PolicyBody, await resp.Content.ReadAsStringAsync());
        Assert.Equal(443, _host.Endpoint.Port);
        Assert.StartsWith("127.8.4.", _host.Address.ToString(), StringComparison.Ordinal);
        var req = Assert.Single(_host.RequestsFor(Host));
        Assert.Equal(("GET", "/.well-known/mta-sts.txt", Host), (req.Method, req.Target, req.Sni));
        Assert.Null(req.Header("If-None-Match"));
        Assert.Null(req.Header("If-Modified-Since"));
    }

    [Theory]
    [InlineData(CertificateKind.SelfSigned)]
    [InlineData(CertificateKind.WrongName)]
    [InlineData(CertificateKind.Expired)]
    public async Task Bad_certificates_are_rejected_by_a_validating_client(CertificateKind kind)
    {
        _host.Set(Host, HostBehavior.Policy(PolicyBody).WithCertificate(kind));
        await Assert.ThrowsAsync<HttpRequestException>(() => _client.GetAsync(Url()));
        Assert.Empty(_host.Requests);
    }

    [Fact]
    public async Task Redirect_target_is_recorded_only_when_fetched()
    {
        _host.Set(Host, HostBehavior.Redirect(Url("elsewhere.a.test")));
        _host.Set("elsewhere.a.test", HostBehavior.Policy(PolicyBody));
        using var resp = await _client.GetAsync(Url());
        Assert.Equal(HttpStatusCode.MovedPermanently, resp.StatusCode);
        Assert.Equal(Url("elsewhere.a.test"), resp.Headers.Location?.ToString());
        Assert.False(_host.WasRequested("elsewhere.a.test"));
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(65537)]
    public async Task Sized_and_chunked_bodies_have_exact_length(int size)
    {
        _host.Set(Host, HostBehavior.Sized(size, PolicyBody));
        _host.Set("chunked.a.test", HostBehavior.Chunked(size, PolicyBody));
        using var fixedResp = await _client.GetAsync(Url());
        Assert.Equal(size, fixedResp.Content.Headers.ContentLength);
        Assert.StartsWith(PolicyBody, await fixedResp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var chunked = await _client.GetAsync(Url("chunked.a.test"), HttpCompletionOption.ResponseHeadersRead);
        Assert.True(chunked.Headers.TransferEncodingChunked);
        Assert.Null(chunked.Content.Headers.ContentLength);
        Assert.Equal(size, (await chunked.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Lying_length_html_and_404()
    {
        _host.Set(Host, HostBehavior.LyingLength(PolicyBody, 10));
        Assert.Equal(PolicyBody[..10], await _client.GetStringAsync(Url()));
        _host.Set(Host, HostBehavior.Html("<html></html>")); // behaviour changed mid-test
        using var html = await _client.GetAsync(Url());
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        using var missing = await _client.GetAsync(Url("unknown.a.test"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(3, _host.Requests.Count);
    }

    [Fact]
    public async Task Endless_body_keeps_coming()
    {
        _host.Set(Host, HostBehavior.Endless());
        using var resp = await _client.GetAsync(Url(), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await resp.Content.ReadAsStreamAsync();
        var buf = new byte[16384];
        long total = 0;
        while (total < 1_000_000)
            total += await body.ReadAsync(buf);
        Assert.True(total >= 1_000_000);
    }

    [Fact]
    public async Task Slow_drip_delivers_one_byte_per_interval()
    {
        _host.Set(Host, HostBehavior.SlowDrip("abcd", TimeSpan.FromMilliseconds(150)));
        var sw = Stopwatch.StartNew();
        Assert.Equal("abcd", await _client.GetStringAsync(Url()));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(400), sw.Elapsed.ToString());
    }

    [Fact]
    public async Task Stalls_time_out_the_client()
    {
        // Generous timeout: under load the first handshake (including certificate issuance) can take a while.
        using var client = _host.CreateClient(TimeSpan.FromSeconds(2));
        _host.Set(Host, HostBehavior.StallBeforeHeaders());
        _host.Set("tls-stall.a.test", HostBehavior.StallTls());
        await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(Url()));
        await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(Url("tls-stall.a.test")));
        Assert.Single(_host.RequestsFor(Host)); // request was read before stalling
        Assert.Empty(_host.RequestsFor("tls-stall.a.test"));
    }

    [Fact]
    public async Task Parallel_hosts_get_distinct_addresses()
    {
        await using var other = PolicyHost.Start(_ca);
        Assert.NotEqual(_host.Address, other.Address);
    }

    [Fact]
    public async Task Ca_file_works_for_openssl_child_process()
    {
        _host.Set(Host, HostBehavior.Policy(PolicyBody));
        var (code, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("openssl"),
            ["s_client", "-connect", $"{_host.Address}:443", "-servername", Host, "-verify_hostname", Host,
             "-verify_return_error", "-CAfile", _ca.CaFile, "-brief"]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Verification: OK", stderr, StringComparison.Ordinal);
    }
}
