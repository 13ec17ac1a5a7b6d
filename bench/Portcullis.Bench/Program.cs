using System.Diagnostics;
using System.Globalization;
using System.Net;
using Portcullis.Bench;
using Portcullis.IntegrationTests.Harness;
using Portcullis.IntegrationTests.World;

// Run through scripts/bench.sh: inside a network namespace whose resolv.conf points at the test
// unbound (127.0.0.1:53), so postfix-mta-sts-resolver resolves through the same world.
int seconds = Arg("--seconds", 10), connections = Arg("--connections", 16), bulk = Arg("--domains", 100_000);
bool peer = !args.Contains("--no-peer");
const int StsDomains = 20;
using var ca = TestCa.Create();
await using var host = PolicyHost.Start(ca);
var w = new DnsWorldBuilder { ResolverPort = 53 };
var z = w.Zone("bench.test");
for (int i = 0; i < StsDomains; i++)
{
    z.Mx($"mx.s{i}.bench.test.", owner: $"s{i}").A($"mx.s{i}").MtaSts("1", $"s{i}").A($"mta-sts.s{i}", host.Address.ToString());
    host.Set($"mta-sts.s{i}.bench.test", HostBehavior.Policy($"version: STSv1\nmode: enforce\nmx: mx.s{i}.bench.test\nmax_age: 86400\n"));
    z.A($"n{i}");
}
w.Zone("wild.bench.test").A("*");
await using var dns = await w.StartAsync();
string dir = Directory.CreateTempSubdirectory("portcullis-bench-").FullName;

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Cpu()}; {DateTime.UtcNow:yyyy-MM-dd}; {seconds} s per run, {connections} connections");
var rows = new List<(string Name, LoadResult R)>();
await using var daemon = await DaemonProcess.StartAsync(dns.ResolverEndpoint, ca.ChildEnvironment, Path.Combine(dir, "cache.db"),
    "refresh:\n  enabled: false\nmta_sts:\n  allow_private_addresses: true\n", CancellationToken.None);
await Task.Delay(1000);
long idle = LoadClient.Rss(daemon.Pid);
Func<string, bool> secure = r => r.StartsWith("OK secure", StringComparison.Ordinal);
Func<string, bool> notfound = r => r == "NOTFOUND ";

// a. cached MTA-STS answers; b. cached negative answers
await Warm(daemon.Port, Enumerable.Range(0, StsDomains).Select(i => $"s{i}.bench.test"));
await Warm(daemon.Port, Enumerable.Range(0, StsDomains).Select(i => $"n{i}.bench.test"));
rows.Add(("portcullis cached secure", await LoadClient.RunAsync(daemon.Port, connections,
    (c, n) => $"QUERY s{n % StsDomains}.bench.test", TimeSpan.FromSeconds(seconds), null, daemon.Pid, secure)));
rows.Add(("portcullis cached NOTFOUND", await LoadClient.RunAsync(daemon.Port, connections,
    (c, n) => $"QUERY n{n % StsDomains}.bench.test", TimeSpan.FromSeconds(seconds), null, daemon.Pid, notfound)));
// c. uncached: every request a new domain (MX, A, AAAA, TLSA, TXT lookups in the DNSSEC world)
rows.Add(("portcullis uncached (DNSSEC world)", await LoadClient.RunAsync(daemon.Port, connections,
    (c, n) => $"QUERY u{n}.wild.bench.test", null, 5000, daemon.Pid, notfound)));
// d. memory with many cached domains
var fill = Stopwatch.StartNew();
var filled = await LoadClient.RunAsync(daemon.Port, 64, (c, n) => $"QUERY b{n}.wild.bench.test", null, bulk, daemon.Pid, notfound);
long rssBulk = LoadClient.Rss(daemon.Pid);
Console.WriteLine($"filled {bulk} domains in {fill.Elapsed.TotalSeconds:0.0} s ({filled.Errors} errors)");

LoadResult? peerInternal = null, peerSqlite = null;
long peerIdle = 0;
if (peer)
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
        _ = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        await WaitPort(port);
        await Task.Delay(500);
        if (cache == "internal")
            peerIdle = LoadClient.Rss(p.Id);
        await Warm(port, Enumerable.Range(0, StsDomains).Select(i => $"s{i}.bench.test"));
        var r = await LoadClient.RunAsync(port, connections, (c, n) => $"QUERY s{n % StsDomains}.bench.test",
            TimeSpan.FromSeconds(seconds), null, p.Id, secure);
        rows.Add(($"postfix-mta-sts-resolver ({cache}) cached secure", r));
        if (cache == "internal") peerInternal = r; else peerSqlite = r;
        p.Kill(true);
        await p.WaitForExitAsync();
    }
}

Console.WriteLine();
Console.WriteLine($"{"run",-46} {"req/s",10} {"p50 µs",9} {"p99 µs",9} {"p99.9 µs",9} {"errors",7} {"peak RSS",9}");
foreach (var (name, r) in rows)
    Console.WriteLine($"{name,-46} {r.Throughput,10:0} {r.P50Us,9:0} {r.P99Us,9:0} {r.P999Us,9:0} {r.Errors,7} {r.PeakRssBytes / 1048576.0,7:0.0}MB");
Console.WriteLine();
Console.WriteLine($"portcullis RSS idle {idle / 1048576.0:0.0} MB; with {bulk} cached domains {rssBulk / 1048576.0:0.0} MB" +
    (peer ? $"; postfix-mta-sts-resolver idle {peerIdle / 1048576.0:0.0} MB" : ""));
var cached = rows[0].R;
if (peerInternal is not null)
{
    double ratio = cached.Throughput / peerInternal.Throughput;
    Console.WriteLine($"cached throughput ratio vs postfix-mta-sts-resolver: {ratio:0.0}x (internal cache), {cached.Throughput / peerSqlite!.Throughput:0.0}x (sqlite cache)");
    Target($"cached answers >= 2x postfix-mta-sts-resolver throughput ({ratio:0.0}x)", ratio >= 2);
}
Target($"cached p99 < 0.5 ms at {connections} connections ({cached.P99Us:0} µs)", cached.P99Us < 500);
Target($"RSS idle < 40 MB ({idle / 1048576.0:0.0} MB)", idle < 40L << 20);
Target($"RSS with {bulk} cached domains < 80 MB ({rssBulk / 1048576.0:0.0} MB)", rssBulk < 80L << 20);
Directory.Delete(dir, true);
return 0;

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
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
