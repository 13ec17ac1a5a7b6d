using System.Diagnostics;
using System.Globalization;
using System.Net;
using Portcullis.Bench;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

// Run through scripts/bench.sh: inside a network namespace whose resolv.conf points at the test
// unbound (127.0.0.1:53), so postfix-mta-sts-resolver resolves through the same world.
// The load client shares two cores with the servers: scripts/bench.sh runs it with socket completions
// inline (no thread-pool hop per reply). The engine reads that setting once, at its first socket, so
// start one, then clear the variable so the servers under test keep their own defaults.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is not null)
{
    using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
    {
        probe.Start();
        using var accept = probe.AcceptSocketAsync();
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)probe.LocalEndpoint).Port);
        (await accept).Dispose();
    }
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", null);
}
int seconds = Arg("--seconds", 10), connections = Arg("--connections", 16), bulk = Arg("--domains", 100_000);
bool peer = !args.Contains("--no-peer");
// --pin: the servers on CPU 0, this load client on CPU 1, so client and server do not take turns on one core.
bool pin = args.Contains("--pin") && Environment.ProcessorCount >= 2;
if (pin)
    await Pin(Environment.ProcessId, "1");
// --runs picks scenarios (default all), to iterate on one without waiting for the others.
var runs = (ArgText("--runs") ?? "cached,uncached,memory,delay,start").Split(',').ToHashSet(StringComparer.Ordinal);
int delayMs = Arg("--delay-ms", 10), samples = Arg("--samples", 20), warmup = Arg("--warmup", 3);
const int StsDomains = 20;
using var ca = TestCa.Create();
await using var host = PolicyHost.Start(ca);
// The delayed world's policy host is reached through a relay on its own loopback address.
var delay = TimeSpan.FromMilliseconds(delayMs);
await using var httpsRelay = DelayRelay.Tcp(LoopbackAllocator.Listen(443), host.Endpoint, delay);
var w = new DnsWorldBuilder { ResolverPort = 53 };
var z = w.Zone("bench.test");
for (int i = 0; i < StsDomains; i++)
{
    z.Mx($"mx.s{i}.bench.test.", owner: $"s{i}").A($"mx.s{i}").MtaSts("1", $"s{i}").A($"mta-sts.s{i}", host.Address.ToString());
    host.Set($"mta-sts.s{i}.bench.test", HostBehavior.Policy($"version: STSv1\nmode: enforce\nmx: mx.s{i}.bench.test\nmax_age: 86400\n"));
    z.A($"n{i}");
}
for (int i = 0; i <= samples; i++)
{
    // t*: DANE (signed MX, TLSA 3 1 1); m*: MTA-STS enforce without TLSA, policy host behind the relay.
    z.Mx($"mx.t{i}.bench.test.", owner: $"t{i}").A($"mx.t{i}").Tlsa($"_25._tcp.mx.t{i}", 3, 1, 1, DaneHash);
    z.Mx($"mx.m{i}.bench.test.", owner: $"m{i}").A($"mx.m{i}").MtaSts("1", $"m{i}").A($"mta-sts.m{i}", httpsRelay.Endpoint.Address.ToString());
    host.Set($"mta-sts.m{i}.bench.test", HostBehavior.Policy($"version: STSv1\nmode: enforce\nmx: mx.m{i}.bench.test\nmax_age: 86400\n"));
}
w.Zone("wild.bench.test").A("*");
await using var dns = await w.StartAsync();
string dir = Directory.CreateTempSubdirectory("portcullis-bench-").FullName;

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Cpu()}; {DateTime.UtcNow:yyyy-MM-dd}; {seconds} s per run, {connections} connections" +
    (pin ? "; servers pinned to CPU 0, load client to CPU 1" : ""));
var rows = new List<(string Name, LoadResult R)>();
const string Config = "refresh:\n  enabled: false\nmta_sts:\n  allow_private_addresses: true\n";
long idle = 0, rssBulk = 0;
string idleParts = "", bulkParts = "";
Func<string, bool> secure = r => r.StartsWith("OK secure", StringComparison.Ordinal);
Func<string, bool> notfound = r => r == "NOTFOUND ";
if (runs.Overlaps(["cached", "uncached", "memory"]))
{
    await using var daemon = await DaemonProcess.StartAsync(dns.ResolverEndpoint, ca.ChildEnvironment, Path.Combine(dir, "cache.db"),
        Config, CancellationToken.None);
    if (pin)
        await Pin(daemon.Pid, "0");
    await Task.Delay(1000);
    idle = LoadClient.Rss(daemon.Pid);
    idleParts = LoadClient.RssBreakdown(daemon.Pid);
    if (runs.Contains("cached"))
    {
        // a. cached MTA-STS answers; b. cached negative answers
        await Warm(daemon.Port, Enumerable.Range(0, StsDomains).Select(i => $"s{i}.bench.test"));
        await Warm(daemon.Port, Enumerable.Range(0, StsDomains).Select(i => $"n{i}.bench.test"));
        rows.Add(("portcullis cached secure", await Measured(daemon.Port, daemon.Pid, "s", secure)));
        rows.Add(("portcullis cached NOTFOUND", await Measured(daemon.Port, daemon.Pid, "n", notfound)));
        if (args.Contains("--gc-metrics"))
            Console.WriteLine($"after the cached runs: {LoadClient.RssBreakdown(daemon.Pid)}\n{await GcMetrics(daemon.Port)}");
    }
    if (runs.Contains("uncached"))
    {
        // c. uncached: every request a new domain (MX, A, AAAA, TLSA, TXT lookups in the DNSSEC world)
        rows.Add(("portcullis uncached (DNSSEC world)", await LoadClient.RunAsync(daemon.Port, connections,
            (c, n) => $"QUERY u{n}.wild.bench.test", null, 5000, daemon.Pid, notfound)));
    }
    if (runs.Contains("memory"))
    {
        // d. memory with many cached domains
        var fill = Stopwatch.StartNew();
        var filled = await LoadClient.RunAsync(daemon.Port, 64, (c, n) => $"QUERY b{n}.wild.bench.test", null, bulk, daemon.Pid, notfound);
        await Task.Delay(1000);
        rssBulk = LoadClient.Rss(daemon.Pid);
        bulkParts = LoadClient.RssBreakdown(daemon.Pid);
        if (args.Contains("--gc-metrics"))
            Console.WriteLine(await GcMetrics(daemon.Port));
        Console.WriteLine($"filled {bulk} domains in {fill.Elapsed.TotalSeconds:0.0} s ({filled.Errors} errors)");
        // --hold N: keep the filled daemon N seconds, e.g. for `dotnet-gcdump collect -p PID` on the JIT build.
        if (Arg("--hold", 0) is > 0 and var hold)
        {
            Console.WriteLine($"holding daemon pid {daemon.Pid} for {hold} s");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }
    }
    // Stopped as systemd stops it (SIGTERM), so the start runs below begin from a cleanly closed cache.
    await daemon.StopAsync(CancellationToken.None);
}

var latencyRows = new List<string>();
if (runs.Contains("delay"))
{
    // e. uncached latency over a slow link: the daemon's DNS and HTTPS go through the delay relay.
    await using var dnsRelay = DelayRelay.Dns(dns.ResolverEndpoint, delay);
    await using var slow = await DaemonProcess.StartAsync(dnsRelay.Endpoint, ca.ChildEnvironment, Path.Combine(dir, "slow.db"),
        Config, CancellationToken.None);
    double rtt = 2 * delayMs;
    // The policy host issues each name's certificate on first use: issue them now, outside the measurement.
    using (var warm = host.CreateClient())
    {
        for (int i = 0; i <= samples; i++)
            (await warm.GetAsync($"https://mta-sts.m{i}.bench.test/.well-known/mta-sts.txt")).Dispose();
    }
    Console.WriteLine($"uncached latency, one-way delay {delayMs} ms each way (RTT {rtt:0} ms) between the daemon and both the resolver and the policy host:");
    // DANE domain: the MX answer names the hosts (1 RTT); then per host, all in parallel, A, AAAA and
    // the host's TLSA (1 RTT: asked together under a signed MX). The MTA-STS branch (TXT, 1 RTT) runs
    // alongside. Nothing can start before the MX answer, so 2 RTT is the floor.
    latencyRows.Add(await Latency(slow.Port, "t", "OK dane-only", 2, rtt, "DANE (MX; A+AAAA+TLSA)"));
    // MTA-STS domain: TXT (1 RTT; a fetch is allowed only for a valid record) -> A+AAAA of mta-sts.DOMAIN
    // (1) -> TCP connect (1) -> TLS 1.3 handshake (1) -> HTTP GET (1). The DANE branch (2 RTT) runs
    // alongside. Floor: 5 RTT (6 with TLS 1.2).
    latencyRows.Add(await Latency(slow.Port, "m", "OK secure", 5, rtt, "MTA-STS (TXT; A+AAAA; TCP; TLS 1.3; GET)"));
}

LoadResult? peerInternal = null, peerSqlite = null;
long peerIdle = 0;
if (peer && runs.Contains("cached"))
{
    foreach (string cache in new[] { "internal", "sqlite" })
    {
        int port = FreePort.Tcp();
        string cfg = Path.Combine(dir, $"mta-sts-{cache}.yml");
        await File.WriteAllTextAsync(cfg, $"host: 127.0.0.1\nport: {port}\ncache:\n  type: {cache}\n  options:\n" +
            (cache == "sqlite" ? $"    filename: \"{dir}/mta-sts.db\"\n" : "    cache_size: 10000\n"));
        var psi = new ProcessStartInfo("mta-sts-daemon", ["-c", cfg, "-v", "warn"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (k, v) in ca.ChildEnvironment)
            psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        if (pin)
            await Pin(p.Id, "0");
        _ = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        await WaitPort(port);
        await Task.Delay(500);
        if (cache == "internal")
            peerIdle = LoadClient.Rss(p.Id);
        await Warm(port, Enumerable.Range(0, StsDomains).Select(i => $"s{i}.bench.test"));
        var r = await Measured(port, p.Id, "s", secure);
        rows.Add(($"postfix-mta-sts-resolver ({cache}) cached secure", r));
        if (cache == "internal") peerInternal = r; else peerSqlite = r;
        p.Kill(true);
        await p.WaitForExitAsync();
    }
}

// The floor: a fixed-reply epoll server in C (bench/floor), the least work a socketmap server can do.
LoadResult? floor = null;
if (ArgText("--floor") is { } floorBinary && runs.Contains("cached"))
{
    int port = FreePort.Tcp();
    using var p = Process.Start(new ProcessStartInfo(floorBinary, [port.ToString(CultureInfo.InvariantCulture)]))!;
    if (pin)
        await Pin(p.Id, "0");
    await WaitPort(port);
    floor = await Measured(port, p.Id, "s", secure);
    rows.Add(("floor (fixed-reply epoll server in C)", floor));
    p.Kill(true);
    await p.WaitForExitAsync();
}

// Start -> first answer: a cold start with the cached entries on disk, until s0 is answered.
var starts = new List<(string Name, double Ms)>();
if (runs.Contains("start"))
{
    starts.Add(("portcullis (dotnet portcullis.dll, JIT)", await StartToFirstAnswer("dotnet", [DaemonProcess.Binary])));
    if (ArgText("--binary") is { } binary)
        starts.Add(($"portcullis ({binary})", await StartToFirstAnswer(binary, [])));
}

Console.WriteLine();
if (rows.Count > 0)
{
    Console.WriteLine($"{"run",-46} {"req/s",10} {"p50 µs",9} {"p99 µs",9} {"p99.9 µs",9} {"errors",7} {"peak RSS",9}");
    foreach (var (name, r) in rows)
        Console.WriteLine($"{name,-46} {r.Throughput,10:0} {r.P50Us,9:0} {r.P99Us,9:0} {r.P999Us,9:0} {r.Errors,7} {r.PeakRssBytes / 1048576.0,7:0.0}MB");
    Console.WriteLine();
}
if (floor is not null)
{
    Console.WriteLine($"{"ratio to the floor",-46} {"req/s",10} {"p99",9}");
    foreach (var (name, r) in rows)
        Console.WriteLine($"{name,-46} {r.Throughput / floor.Throughput,10:0.00} {r.P99Us / floor.P99Us,9:0.00}");
    Console.WriteLine();
}
foreach (var (name, ms) in starts)
    Console.WriteLine($"start -> first answer (cached entry on disk), median of 5: {name} {ms:0} ms");
if (starts.Count > 0)
    Console.WriteLine();
if (latencyRows.Count > 0)
{
    Console.WriteLine($"{"uncached, RTT " + 2 * delayMs + " ms",-46} {"min ms",8} {"p50 ms",8} {"max ms",8} {"bound ms",9} {"p50-bound",10}");
    foreach (string line in latencyRows)
        Console.WriteLine(line);
    Console.WriteLine();
}
if (idle > 0)
{
    Console.WriteLine($"portcullis RSS idle {idle / 1048576.0:0.0} MB ({idleParts})" + (rssBulk > 0 ? $"; with {bulk} cached domains {rssBulk / 1048576.0:0.0} MB ({bulkParts})" : "") +
        (peerIdle > 0 ? $"; postfix-mta-sts-resolver idle {peerIdle / 1048576.0:0.0} MB" : ""));
}
if (runs.Contains("cached"))
{
    var cached = rows[0].R;
    if (peerInternal is not null)
    {
        double ratio = cached.Throughput / peerInternal.Throughput;
        Console.WriteLine($"cached throughput ratio vs postfix-mta-sts-resolver: {ratio:0.0}x (internal cache), {cached.Throughput / peerSqlite!.Throughput:0.0}x (sqlite cache)");
        Target($"cached answers >= 2x postfix-mta-sts-resolver throughput ({ratio:0.0}x)", ratio >= 2);
    }
    Target($"cached p99 < 0.5 ms at {connections} connections ({cached.P99Us:0} µs)", cached.P99Us < 500);
    if (floor is not null)
        Target($"cached throughput >= 0.7 of the floor's ({cached.Throughput / floor.Throughput:0.00})", cached.Throughput >= 0.7 * floor.Throughput);
}
if (idle > 0)
    Target($"RSS idle <= 20 MB ({idle / 1048576.0:0.0} MB)", idle <= 20L << 20);
if (rssBulk > 0)
    Target($"RSS with {bulk} cached domains <= 60 MB ({rssBulk / 1048576.0:0.0} MB)", rssBulk <= 60L << 20);
foreach (var (name, ms) in starts)
    Target($"start -> first answer <= 50 ms: {name} ({ms:0} ms)", ms <= 50);
Directory.Delete(dir, true);
return 0;

// Five cold starts of `serve` on the cache the cached runs left on disk; the median time from
// starting the process to the first answer for a cached domain (polled every millisecond).
async Task<double> StartToFirstAnswer(string program, string[] prefix)
{
    var ms = new List<double>();
    for (int run = 0; run < 5; run++)
    {
        int port = FreePort.Tcp();
        string cfg = Path.Combine(dir, "start.yaml");
        await File.WriteAllTextAsync(cfg, Config);
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in prefix.Concat(["serve", "--dns", dns.ResolverEndpoint.ToString(), "--cache", Path.Combine(dir, "cache.db"),
                     "--config", cfg, "--listen", $"127.0.0.1:{port}"]))
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in ca.ChildEnvironment)
            psi.Environment[k] = v;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                await using var c = await SocketmapClient.ConnectAsync(port, CancellationToken.None);
                if ((await c.QueryAsync("QUERY", "s0.bench.test", CancellationToken.None)).StartsWith("OK secure", StringComparison.Ordinal))
                    break;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                await Task.Delay(1);
            }
        }
        ms.Add(sw.Elapsed.TotalMilliseconds);
        // SIGTERM, as `systemctl restart` does: the next start finds the cache closed cleanly (no whole-file check).
        using (var term = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await term.WaitForExitAsync();
        await p.WaitForExitAsync();
    }
    ms.Sort();
    return ms[ms.Count / 2];
}

// A warm-up run first (JIT tiering in both processes, connection set-up), then the measured run.
async Task<LoadResult> Measured(int port, int pid, string prefix, Func<string, bool> ok)
{
    Func<int, long, string> request = (c, n) => $"QUERY {prefix}{n % StsDomains}.bench.test";
    if (warmup > 0)
        await LoadClient.RunAsync(port, connections, request, TimeSpan.FromSeconds(warmup), null, pid, ok);
    return await LoadClient.RunAsync(port, connections, request, TimeSpan.FromSeconds(seconds), null, pid, ok);
}

// One query at a time, each for a domain nothing has cached yet; latency as Postfix would wait for it.
async Task<string> Latency(int port, string prefix, string expect, int rtts, double rtt, string what)
{
    await using var c = await SocketmapClient.ConnectAsync(port, CancellationToken.None);
    var ms = new List<double>();
    int wrong = 0;
    // Domain 0 warms up (JIT, first TLS context); it is not counted.
    await c.QueryAsync("QUERY", $"{prefix}0.bench.test", CancellationToken.None);
    for (int i = 1; i <= samples; i++)
    {
        long start = Stopwatch.GetTimestamp();
        string reply = await c.QueryAsync("QUERY", $"{prefix}{i}.bench.test", CancellationToken.None);
        ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        if (!reply.StartsWith(expect, StringComparison.Ordinal))
            wrong++;
    }
    ms.Sort();
    double bound = rtts * rtt, p50 = ms[ms.Count / 2];
    return $"{what + $", {rtts} RTT",-46} {ms[0],8:0.0} {p50,8:0.0} {ms[^1],8:0.0} {bound,9:0} {p50 - bound,10:+0.0;-0.0}" +
        (wrong > 0 ? $"  ({wrong} unexpected answers)" : "");
}

// The runtime's GC and memory series from the daemon's /metrics (served on the socketmap port).
static async Task<string> GcMetrics(int port)
{
    using var http = new HttpClient();
    string text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
    return string.Join('\n', text.Split('\n').Where(l => l.StartsWith("dotnet_gc", StringComparison.Ordinal) || l.StartsWith("dotnet_process_memory", StringComparison.Ordinal)));
}

string? ArgText(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

// taskset -a: every thread of the process; threads started later inherit the mask.
static async Task Pin(int pid, string cpus)
{
    using var p = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", cpus, pid.ToString(CultureInfo.InvariantCulture)])
        { RedirectStandardOutput = true })!;
    await p.StandardOutput.ReadToEndAsync();
    await p.WaitForExitAsync();
}

static void Target(string what, bool ok) => Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {what}");

static string Cpu() =>
    File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

static async Task Warm(int port, IEnumerable<string> domains)
{
    await using var c = await SocketmapClient.ConnectAsync(port, CancellationToken.None);
    foreach (string d in domains)
        await c.QueryAsync("QUERY", d, CancellationToken.None);
}

static async Task WaitPort(int port)
{
    for (int i = 0; i < 200; i++)
    {
        try
        {
            using var t = new System.Net.Sockets.TcpClient();
            await t.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (System.Net.Sockets.SocketException)
        {
            await Task.Delay(50);
        }
    }
    throw new TimeoutException($"nothing listens on {port}");
}

internal static partial class Program
{
    // Any 32 bytes: the benchmark needs a usable TLSA record, not a matching certificate.
    private const string DaneHash = "8f7e1dc7b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d";
}
