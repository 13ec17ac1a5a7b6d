using System.Diagnostics;
using System.Net;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>
/// A running DNSSEC test hierarchy: nsd (authoritative for every zone) and a validating unbound whose only
/// trust anchor is the test root's KSK. Both listen on 127.0.0.1 at random ports; everything lives in a temp dir.
/// Zones are fixed at start: to change records, build a new world (FlushAsync only clears unbound's cache).
/// </summary>
public sealed class DnsWorld : IAsyncDisposable
{
    private readonly TempDir _dir;
    private readonly ChildProcess _nsd;
    private ChildProcess _unbound;

    private DnsWorld(TempDir dir, ChildProcess nsd, int nsdPort, ChildProcess unbound, int unboundPort, TimeSpan startTime)
    {
        _dir = dir;
        _nsd = nsd;
        _unbound = unbound;
        AuthoritativeEndpoint = new IPEndPoint(IPAddress.Loopback, nsdPort);
        ResolverEndpoint = new IPEndPoint(IPAddress.Loopback, unboundPort);
        StartTime = startTime;
    }

    /// <summary>The validating resolver (unbound). Point the product here.</summary>
    public IPEndPoint ResolverEndpoint { get; }

    /// <summary>The authoritative server (nsd) serving all zones.</summary>
    public IPEndPoint AuthoritativeEndpoint { get; }

    public string Directory => _dir.Path;

    /// <summary>DS record of the test root KSK, in unbound trust-anchor-file format.</summary>
    public string TrustAnchorFile => _dir.File("root.ds");

    public TimeSpan StartTime { get; }

    public string ResolverLog => _unbound.Output;

    public string AuthoritativeLog => _nsd.Output;

    internal static async Task<DnsWorld> StartAsync(IReadOnlyList<DnsZone> zones, int? resolverPort, CancellationToken ct,
        IPAddress? address53 = null)
    {
        var sw = Stopwatch.StartNew();
        var nsd = TestBinaries.Require("nsd");
        var unbound = TestBinaries.Require("unbound");
        var dir = new TempDir("dns");
        try
        {
            await DnsZoneSigner.WriteZonesAsync(dir, zones, ct);
            var (nsdProc, nsdPort) = await StartWithRetryAsync(dir, "nsd", port =>
            {
                File.WriteAllText(dir.File("nsd.conf"), NsdConfig(dir, port, zones));
                return ChildProcess.Start(nsd, ["-d", "-c", dir.File("nsd.conf")], dir.Path);
            }, ep => IsAuthoritativeReady(ep), ct);
            try
            {
                var (unboundProc, unboundPort) = await StartWithRetryAsync(dir, "unbound", port =>
                {
                    File.WriteAllText(dir.File("unbound.conf"), UnboundConfig(dir, port, nsdPort, zones, address53));
                    return ChildProcess.Start(unbound, ["-d", "-c", dir.File("unbound.conf")], dir.Path);
                }, ep => IsResolverReady(ep), ct, resolverPort);
                return new DnsWorld(dir, nsdProc, nsdPort, unboundProc, unboundPort, sw.Elapsed);
            }
            catch
            {
                await nsdProc.DisposeAsync();
                throw;
            }
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Kills the resolver (an outage); <see cref="StartResolverAsync"/> brings it back on the same port.</summary>
    public async Task StopResolverAsync()
    {
        await _unbound.DisposeAsync();
        // Closed, not merely slow: a query now meets a closed UDP port.
        while (await PortAnswersAsync())
            await Task.Delay(50);
    }

    /// <summary>Starts the resolver again on its port, with an empty cache, and waits until it validates.</summary>
    public async Task StartResolverAsync(CancellationToken ct = default)
    {
        var unbound = TestBinaries.Require("unbound");
        File.Delete(_dir.File("unbound.pid"));
        _unbound = ChildProcess.Start(unbound, ["-d", "-c", _dir.File("unbound.conf")], _dir.Path);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            ct.ThrowIfCancellationRequested();
            if (_unbound.HasExited)
                throw new InvalidOperationException($"unbound exited on restart:\n{_unbound.Output}");
            try
            {
                if (await IsResolverReady(ResolverEndpoint))
                    return;
            }
            catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException)
            {
                // not up yet
            }
            await Task.Delay(50, ct);
        }
        throw new InvalidOperationException($"unbound did not come back:\n{_unbound.Output}");
    }

    private async Task<bool> PortAnswersAsync()
    {
        try
        {
            return await DnsProbe.QueryAsync(ResolverEndpoint, ".", DnsProbe.Soa, TimeSpan.FromMilliseconds(200)) is not null;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Drops everything unbound has cached (answers, keys, bogus marks, server info).</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        var control = TestBinaries.Require("unbound-control");
        foreach (var cmd in new[] { new[] { "flush_zone", "." }, ["flush_bogus"], ["flush_negative"], ["flush_infra", "all"] })
            await ChildProcess.RunCheckedAsync(control, ["-c", _dir.File("unbound.conf"), .. cmd], _dir.Path, ct);
    }

    /// <summary>dig output against the resolver, for diagnostics in failing tests.</summary>
    public async Task<string> DigAsync(string name, string type = "A", CancellationToken ct = default)
    {
        var (_, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("dig"),
            ["@127.0.0.1", "-p", ResolverEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "+dnssec", "+multi", name, type], ct: ct);
        return stdout + stderr;
    }

    public Task<DnsProbeResult> QueryAsync(string name, ushort type, CancellationToken ct = default) =>
        DnsProbe.QueryAsync(ResolverEndpoint, name, type, ct: ct);

    public async ValueTask DisposeAsync()
    {
        await _unbound.DisposeAsync();
        await _nsd.DisposeAsync();
        _dir.Dispose();
    }

    private static async Task<bool> IsAuthoritativeReady(IPEndPoint ep) =>
        await DnsProbe.QueryAsync(ep, ".", DnsProbe.Soa, TimeSpan.FromMilliseconds(300)) is { Rcode: 0, Authoritative: true };

    // A validated answer for test. proves the whole chain (trust anchor -> root -> test.) works, not just that unbound is up.
    private static async Task<bool> IsResolverReady(IPEndPoint ep) =>
        await DnsProbe.QueryAsync(ep, "test.", DnsProbe.Soa, TimeSpan.FromMilliseconds(1000)) is { Rcode: 0, Authenticated: true };

    // Free ports are racy (parallel tests, other processes), so retry with a new port if the server dies at startup.
    private static async Task<(ChildProcess, int)> StartWithRetryAsync(
        TempDir dir, string what, Func<int, ChildProcess> start, Func<IPEndPoint, Task<bool>> ready, CancellationToken ct,
        int? fixedPort = null)
    {
        var log = new StringBuilder();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var port = fixedPort ?? FreePort.TcpAndUdp();
            var proc = start(port);
            var deadline = Stopwatch.StartNew();
            while (!proc.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    if (await ready(new IPEndPoint(IPAddress.Loopback, port)))
                        return (proc, port);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Probe timed out; server not up yet.
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // ICMP port unreachable before the server binds.
                }
                await Task.Delay(50, ct);
            }
            var exited = proc.HasExited;
            await proc.DisposeAsync();
            log.Append($"--- {what} attempt {attempt} on port {port} ({(exited ? "exited" : "not ready after 20s")}):\n{proc.Output}\n");
            if (!exited)
                break; // Running but never ready: a configuration problem, retrying will not help.
        }
        throw new InvalidOperationException($"{what} did not become ready (work dir {dir.Path}).\n{log}");
    }

    private static string NsdConfig(TempDir dir, int port, IReadOnlyList<DnsZone> zones)
    {
        var sb = new StringBuilder();
        sb.Append($"""
            server:
              ip-address: 127.0.0.1@{port}
              do-ip6: no
              username: ""
              chroot: ""
              zonesdir: "{dir.Path}"
              database: ""
              pidfile: "{dir.File("nsd.pid")}"
              xfrdfile: "{dir.File("xfrd.state")}"
              xfrdir: "{dir.Path}"
              zonelistfile: "{dir.File("zone.list")}"
              verbosity: 1
              server-count: 1
              # Debian's nsd rate-limits responses (RRL) to 200/s per client; a test world must not.
              rrl-ratelimit: 0
              hide-version: yes
              reuseport: no
            remote-control:
              control-enable: no

            """);
        foreach (var z in zones)
            sb.Append($"zone:\n  name: \"{z.Name}\"\n  zonefile: \"{DnsZoneSigner.ServedFile(z)}\"\n");
        return sb.ToString();
    }

    private static string UnboundConfig(TempDir dir, int port, int nsdPort, IReadOnlyList<DnsZone> zones, IPAddress? address53)
    {
        var sb = new StringBuilder();
        sb.Append($"""
            server:
              interface: 127.0.0.1{(address53 is null ? "" : $"\n  interface: {address53}@53")}
              port: {port}
              do-ip4: yes
              do-ip6: no
              username: ""
              chroot: ""
              directory: "{dir.Path}"
              pidfile: "{dir.File("unbound.pid")}"
              use-syslog: no
              logfile: ""
              verbosity: 1
              val-log-level: 2
              num-threads: 1
              so-reuseport: no
              access-control: 127.0.0.0/8 allow
              do-not-query-localhost: no
              module-config: "validator iterator"
              trust-anchor-file: "{dir.File("root.ds")}"
              trust-anchor-signaling: no
              harden-dnssec-stripped: yes
              cache-max-ttl: 5
              cache-max-negative-ttl: 5
              val-bogus-ttl: 5
              prefetch: no
            remote-control:
              control-enable: yes
              control-interface: "{dir.File("unbound.ctl")}"
              control-use-cert: no

            """);
        // unbound answers some special-use TLDs (test., invalid., ...) locally by default; let them recurse.
        foreach (var tld in zones.Select(z => z.Name).Where(n => n != ".").Select(n => n.Split('.')[^2] + ".").Distinct())
            sb.Append($"server:\n  local-zone: \"{tld}\" nodefault\n");
        // NS glue says 127.0.0.1 port 53; stub every zone to nsd's real port instead.
        foreach (var z in zones)
            sb.Append($"stub-zone:\n  name: \"{z.Name}\"\n  stub-addr: 127.0.0.1@{nsdPort}\n");
        return sb.ToString();
    }
}
