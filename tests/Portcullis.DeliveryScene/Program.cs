using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portcullis.DeliveryScene;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

// Usage: Portcullis.DeliveryScene OUT.json              the host's Postfix (DeliveryTests)
//        Portcullis.DeliveryScene --root ROOT OUT.json   a Debian root's Postfix 3.10 (Postfix310DeliveryTests)
//        Portcullis.DeliveryScene --installed ROOT OUT.json   the package installed in ROOT serving it (PackageInstallTests)
// Run inside a network namespace.
if (args is ["--root", var debianRoot, var out310])
    return await Postfix310Scene.RunAsync(debianRoot, out310);
if (args is ["--installed", var installedRoot, var outInstalled])
    return await InstallScene.RunAsync(installedRoot, outInstalled);
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Portcullis.DeliveryScene [--root ROOT] OUT.json");
    return 64;
}
using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
var ct = cts.Token;
string work = Directory.CreateTempSubdirectory("portcullis-scene-").FullName;
// Postfix daemons run as the postfix user and must traverse into their queue and data directories.
File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);

// Each case: recipient domain, MX host, its address, and what the test expects Postfix to do.
var cases = new (string Domain, string Mx, string Ip)[]
{
    ("good.sts.test", "mx.good.sts.test", "127.0.1.1"),         // MTA-STS enforce, certificate valid for the MX name
    ("badcert.sts.test", "mx.badcert.sts.test", "127.0.1.2"),   // MTA-STS enforce, certificate for another name
    ("mismatch.sts.test", "mx.other.sts.test", "127.0.1.3"),    // MTA-STS enforce, MX not in the policy
    ("good.dane.test", "mx.good.dane.test", "127.0.2.1"),       // DANE 3 1 1 matching the sink's key
    ("bad.dane.test", "mx.bad.dane.test", "127.0.2.2"),         // DANE 3 1 1 of another key
    ("plain.test", "mx.plain.test", "127.0.3.1"),               // no policy: opportunistic TLS
};

using var ca = TestCa.Create();
var sinks = new Dictionary<string, SmtpSink>();
await using var policyHost = PolicyHost.Start(ca);
string hostIp = policyHost.Address.ToString();
var w = new DnsWorldBuilder { ResolverPort = 53 };
var sts = w.Zone("sts.test");
var dane = w.Zone("dane.test");
var plain = w.Zone("plain.test", signed: false);
try
{
    foreach (var (domain, mx, ip) in cases)
    {
        X509Certificate2 cert = domain switch
        {
            "badcert.sts.test" => ca.IssueLeaf("wrong-name.invalid"),
            _ when domain.EndsWith(".sts.test", StringComparison.Ordinal) => ca.IssueLeaf(mx),
            _ => TestCa.CreateSelfSigned(mx),
        };
        sinks[domain] = new SmtpSink(IPAddress.Parse(ip), mx, cert);
        var zone = domain.EndsWith(".sts.test", StringComparison.Ordinal) ? sts : domain.EndsWith(".dane.test", StringComparison.Ordinal) ? dane : plain;
        string zoneName = zone.Name.TrimEnd('.');
        string rel(string name) => name == zoneName ? "@" : name[..^(zoneName.Length + 1)];
        zone.Mx(mx + ".", owner: rel(domain)).A(rel(mx), ip);
        if (zone == sts)
        {
            string policyMx = domain == "mismatch.sts.test" ? "mx.mismatch.sts.test" : mx;
            zone.Add($"_mta-sts.{rel(domain)} TXT \"v=STSv1; id=1\"").A($"mta-sts.{rel(domain)}", hostIp);
            policyHost.Set($"mta-sts.{domain}", HostBehavior.Policy($"version: STSv1\nmode: enforce\nmx: {policyMx}\nmax_age: 86400\n"));
        }
        if (zone == dane)
        {
            using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            byte[] spki = domain == "good.dane.test" ? cert.PublicKey.ExportSubjectPublicKeyInfo() : other.ExportSubjectPublicKeyInfo();
            zone.Tlsa($"_25._tcp.{rel(mx)}", 3, 1, 1, Convert.ToHexString(SHA256.HashData(spki)).ToLowerInvariant());
        }
    }

    await using var dns = await w.StartAsync(ct);
    await using var daemon = await DaemonProcess.StartAsync(dns.ResolverEndpoint, ca.ChildEnvironment,
        Path.Combine(work, "cache.db"), "mta_sts:\n  allow_private_addresses: true\n", ct);
    var answers = new Dictionary<string, string>();
    await using (var client = await daemon.ConnectAsync(ct))
    {
        foreach (var (domain, _, _) in cases)
            answers[domain] = await client.QueryAsync("QUERY", domain, ct);
    }

    await using var postfix = await PostfixInstance.StartAsync(Path.Combine(work, "postfix"), daemon.Port, ca.CaFile, ct);
    var queueIds = new Dictionary<string, string>();
    foreach (var (domain, _, _) in cases)
        queueIds[domain] = await PostfixInstance.SubmitAsync("user@" + domain, ct);

    // Wait until every message has a first delivery status (sent, deferred or bounced).
    var status = new Dictionary<string, string>();
    for (int i = 0; i < 600 && status.Count < cases.Length; i++)
    {
        string log = postfix.Log;
        foreach (var (domain, id) in queueIds)
        {
            var m = Regex.Match(log, $@"{Regex.Escape(id)}: to=<user@{Regex.Escape(domain)}>.*? status=(\w+) (.*)");
            if (m.Success)
                status[domain] = m.Groups[1].Value + " " + m.Groups[2].Value;
        }
        await Task.Delay(100, ct);
    }
    string finalLog = postfix.Log;
    var results = cases.Select(c => new
    {
        domain = c.Domain,
        mx = c.Mx,
        portcullis = answers[c.Domain],
        status = status.GetValueOrDefault(c.Domain, "(none)"),
        verified = finalLog.Contains($"Verified TLS connection established to {c.Mx}[{c.Ip}]:25", StringComparison.Ordinal),
        tls_log = Regex.Matches(finalLog, $@"[^\n]*TLS[^\n]*{Regex.Escape(c.Mx)}[^\n]*").Select(m => m.Value.Trim()).ToArray(),
        sink_messages = sinks[c.Domain].Messages.Count,
        sink_plaintext_messages = sinks[c.Domain].Messages.Count(m => !m.OverTls),
    }).ToList();
    await File.WriteAllTextAsync(args[0], JsonSerializer.Serialize(new { results, postfix_log = finalLog, daemon_log = daemon.Output },
        new JsonSerializerOptions { WriteIndented = true }), ct);
    return 0;
}
finally
{
    foreach (var s in sinks.Values)
        await s.DisposeAsync();
    Directory.Delete(work, true);
}
