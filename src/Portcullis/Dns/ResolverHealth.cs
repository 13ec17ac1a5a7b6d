using Microsoft.Extensions.Logging;
using Portcullis.Core.Dns;

namespace Portcullis.Dns;

/// <summary>
/// The resolver self-test: a validating resolver returns the signed root SOA with AD=1. Without
/// that, DANE verdicts would rest on unvalidated data. While the test fails, every resolution asks
/// for a re-test first (at most one per <see cref="RecheckInterval"/>, shared), so a resolver that
/// comes back is trusted again at once instead of at the next periodic run.
/// </summary>
public sealed class ResolverHealth(IDnsResolver dns, TimeProvider time, ILogger<ResolverHealth> log)
{
    /// <summary>While failing, a resolution re-runs the test when the last one is older than this.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private volatile Snapshot _state = new(null, ResolverTrust.Unproven, "not checked yet", DateTimeOffset.MinValue);
    private Task<Snapshot>? _running;
    private volatile bool _everValidated;

    public sealed record Snapshot(bool? Validates, ResolverTrust Trust, string Detail, DateTimeOffset CheckedAt);

    public Snapshot State => _state;

    /// <summary>True only after a successful self-test; unknown counts as not validating.</summary>
    public bool Validates => _state.Validates == true;

    /// <summary>
    /// What a DANE verdict may rest on now. Passing: answered from memory. Failing: re-tested first
    /// (shared with concurrent callers) unless a test finished within <see cref="RecheckInterval"/>.
    /// </summary>
    public async ValueTask<ResolverTrust> TrustAsync(CancellationToken ct)
    {
        var s = _state;
        if (s.Validates == true)
            return ResolverTrust.Validating;
        if (time.GetUtcNow() - s.CheckedAt < RecheckInterval)
            return s.Trust;
        return (await CheckAsync(ct)).Trust;
    }

    /// <summary>
    /// A lookup failed: re-test in the background (at most once per <see cref="RecheckInterval"/>), so an
    /// outage is noticed now rather than at the next periodic run, and lookups after it re-test before
    /// they are trusted.
    /// </summary>
    public void Suspect()
    {
        if (time.GetUtcNow() - _state.CheckedAt >= RecheckInterval)
            _ = CheckAsync(CancellationToken.None);
    }

    /// <summary>Runs the self-test, or joins the one already running.</summary>
    public Task<Snapshot> CheckAsync(CancellationToken ct)
    {
        Task<Snapshot> run;
        lock (_gate)
        {
            if (_running is null || _running.IsCompleted)
                _running = RunAsync();
            run = _running;
        }
        return run.WaitAsync(ct);
    }

    // Not tied to one caller's token: a caller that gives up must not fail the test for the others.
    // The resolver's own timeout and attempts bound it.
    private async Task<Snapshot> RunAsync()
    {
        DnsResult<string> soa;
        try
        {
            soa = await dns.QuerySoaAsync(".", CancellationToken.None);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            soa = new DnsResult<string>(DnsStatus.ServFail, [], TimeSpan.Zero, false, $". SOA: {e.Message}");
        }
        var now = time.GetUtcNow();
        Snapshot next;
        if (soa.Status == DnsStatus.Secure)
        {
            _everValidated = true;
            next = new Snapshot(true, ResolverTrust.Validating, $"root SOA validated (AD=1): {soa.Detail}", now);
        }
        else if (soa.IsError)
        {
            next = new Snapshot(false, ResolverTrust.Unproven,
                $"resolver did not answer the root SOA: {soa.Detail}. Until it does, domains whose DANE status is not " +
                "cached are answered TEMP.", now);
        }
        else if (_everValidated)
        {
            next = new Snapshot(false, ResolverTrust.Unproven,
                "resolver stopped validating DNSSEC (root SOA came back without the AD bit; it validated earlier). Until it " +
                "validates again, domains whose DANE status is not cached are answered TEMP.", now);
        }
        else
        {
            next = new Snapshot(false, ResolverTrust.NotValidating,
                "resolver does not validate DNSSEC (root SOA came back without the AD bit). DANE needs a local " +
                "validating resolver: install unbound (apt install unbound), keep its default trust anchor, and set " +
                "dns.server to 127.0.0.1 (or pass --dns). Until then no domain gets DANE.", now);
        }
        var previous = _state;
        if (next.Validates != previous.Validates || next.Trust != previous.Trust)
        {
            if (next.Validates == true)
                log.LogInformation("Resolver self-test passed: {Detail}", next.Detail);
            else
                log.LogError("Resolver self-test FAILED: {Detail}", next.Detail);
        }
        _state = next;
        return next;
    }
}
