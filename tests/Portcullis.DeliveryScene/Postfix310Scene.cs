using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.DeliveryScene;

/// <summary>
/// Postfix 3.10 (a Debian trixie root) delivering through <c>QUERYwithTLSRPT</c> with TLSRPT on: every case
/// domain publishes <c>_smtp._tls</c> (Postfix reports only such next hops), the datagrams go to the daemon's
/// collect socket inside the root, then <c>tlsrpt send</c> mails the day's reports back through this Postfix
/// (transport <c>tlsrpt-out</c>, <c>smtp_tlsrpt_enable=no</c>) to a report sink, and they are imported again.
/// </summary>
public static class Postfix310Scene
{
    private const string Rua = "mailto:tlsrpt@reports.test";

    // Domain, MX hosts (preference order, with address), and the map Postfix uses for it.
    private sealed record Case(string Domain, (string Host, string Ip)[] Mx, string Map = "QUERYwithTLSRPT");

    private static readonly Case[] Cases =
    [
        new("good.dane.test", [("mx.good.dane.test", "127.0.2.1")]),           // DANE 3 1 1 of the sink's key
        new("good.sts.test", [("mx.good.sts.test", "127.0.1.1")]),             // MTA-STS enforce, valid certificate
        new("testing.sts.test", [("mx.testing.sts.test", "127.0.1.2")]),       // MTA-STS testing
        new("fetchfail.sts.test", [("mx.fetchfail.sts.test", "127.0.1.3")]),   // TXT record, policy host answers 500
        new("badcert.sts.test", [("mx.badcert.sts.test", "127.0.1.4")]),       // enforce, certificate for another name
        new("plain.test", [("mx.plain.test", "127.0.3.1")]),                   // unsigned, no policy at all
        // mx: *.wild.sts.test; the first MX is two labels deep, which RFC 8461 §4.1 does not allow.
        new("wild.sts.test", [("a.b.wild.sts.test", "127.0.1.5"), ("mx.wild.sts.test", "127.0.1.6")]),
        new("wild2.sts.test", [("a.b.wild2.sts.test", "127.0.1.7"), ("mx.wild2.sts.test", "127.0.1.8")], "QUERY"),
    ];

    public static async Task<int> RunAsync(string cachedRoot, string outFile)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = cts.Token;
        string work = Directory.CreateTempSubdirectory("portcullis-scene310-").FullName;
        using var ca = TestCa.Create();
        var sinks = new Dictionary<string, SmtpSink>();
        // Overlay mounted here, inside the namespace's own mount namespace: gone with this process at the latest.
        await using var root = await DebianRoot.OverlayAsync(cachedRoot, ct);
        await using var policyHost = PolicyHost.Start(ca);
        try
        {
            var w = new DnsWorldBuilder { ResolverPort = 53 };
            var sts = w.Zone("sts.test");
            var dane = w.Zone("dane.test");
            var plain = w.Zone("plain.test", signed: false);
            var reports = w.Zone("reports.test", signed: false);
            foreach (var c in Cases)
            {
                var zone = c.Domain.EndsWith(".sts.test", StringComparison.Ordinal) ? sts : c.Domain.EndsWith(".dane.test", StringComparison.Ordinal) ? dane : plain;
                string zoneName = zone.Name.TrimEnd('.');
                string Rel(string name) => name == zoneName ? "@" : name[..^(zoneName.Length + 1)];
                int pref = 10;
                foreach (var (host, ip) in c.Mx)
                {
                    X509Certificate2 cert = c.Domain switch
                    {
                        "badcert.sts.test" => ca.IssueLeaf("wrong-name.invalid"),
                        _ when zone == sts => ca.IssueLeaf(host),
                        _ => TestCa.CreateSelfSigned(host),
                    };
                    sinks[host] = new SmtpSink(IPAddress.Parse(ip), host, cert);
                    zone.Add($"{Rel(c.Domain)} MX {pref} {host}.").A(Rel(host), ip);
                    pref += 10;
                    if (zone == dane)
                        zone.Tlsa($"_25._tcp.{Rel(host)}", 3, 1, 1, Convert.ToHexStringLower(SHA256.HashData(cert.PublicKey.ExportSubjectPublicKeyInfo())));
                }
                string Under(string label) => Rel(c.Domain) == "@" ? label : $"{label}.{Rel(c.Domain)}";
                zone.Add($"{Under("_smtp._tls")} TXT \"v=TLSRPTv1; rua={Rua}\"");
                if (zone == sts)
                {
                    zone.Add($"_mta-sts.{Rel(c.Domain)} TXT \"v=STSv1; id=1\"").A($"mta-sts.{Rel(c.Domain)}", policyHost.Address.ToString());
                    string mode = c.Domain == "testing.sts.test" ? "testing" : "enforce";
                    string mx = c.Domain.StartsWith("wild", StringComparison.Ordinal) ? "*." + c.Domain : c.Mx[0].Host;
                    policyHost.Set($"mta-sts.{c.Domain}", c.Domain == "fetchfail.sts.test"
                        ? HostBehavior.Text(500, "broken\n")
                        : HostBehavior.Policy($"version: STSv1\nmode: {mode}\nmx: {mx}\nmax_age: 86400\n"));
                }
            }
            // Where the reports go; it has a TLSRPT record too, so a report mail sent with TLSRPT on would be reported.
            sinks["mx.reports.test"] = new SmtpSink(IPAddress.Parse("127.0.4.1"), "mx.reports.test", TestCa.CreateSelfSigned("mx.reports.test"));
            reports.Add("@ MX 10 mx.reports.test.").A("mx", "127.0.4.1").Add($"_smtp._tls TXT \"v=TLSRPTv1; rua={Rua}\"");

            await using var dns = await w.StartAsync(ct);
            await RootPostfix.PrepareTlsRptDirectoryAsync(root, ct);
            string socket = root.Outside(RootPostfix.TlsRptSocketInside), db = Path.Combine(work, "tlsrpt.db");
            await using var daemon = await DaemonProcess.StartAsync(dns.ResolverEndpoint, ca.ChildEnvironment, Path.Combine(work, "cache.db"),
                $"socket_permissions: \"0660\"\nmta_sts:\n  allow_private_addresses: true\ntlsrpt:\n  database: {db}\n  collect_socket: {socket}\n", ct);
            if (!await daemon.WaitForOutputAsync("Collecting TLS-RPT session results"))
                throw new InvalidOperationException("collector did not start:\n" + daemon.Output);
            var answers = new Dictionary<string, string>();
            await using (var client = await daemon.ConnectAsync(ct))
            {
                foreach (var c in Cases)
                    answers[c.Domain] = await client.QueryAsync(c.Map, c.Domain, ct);
            }

            await using var postfix = await RootPostfix.StartAsync(root, MainCf(daemon.Port), MasterCf(daemon.Port), File.ReadAllText(ca.CaFile), ct);
            string version = (await postfix.RunAsync("postconf", ["-h", "mail_version"], ct)).Stdout.Trim();
            var queueIds = new Dictionary<string, string>();
            foreach (var c in Cases)
                queueIds[c.Domain] = await PostfixInstance.SubmitAsync("user@" + c.Domain, ct);
            var status = await WaitForStatusAsync(postfix, queueIds.ToDictionary(kv => kv.Key, kv => (kv.Value, "user@" + kv.Key)), ct);
            var datagrams = await StableDatagramCountAsync(daemon, ct);

            // The day's reports, mailed through this Postfix (envelope sender -> transport tlsrpt-out).
            string sendConfig = Path.Combine(work, "send.yaml");
            await File.WriteAllTextAsync(sendConfig, $"""
                tlsrpt:
                  database: {db}
                  send:
                    enabled: true
                    organization_name: Sender Test Org
                    contact_info: mailto:postmaster@sender.test
                    submitter: mta.sender.test
                    mail_from: tlsrpt-noreply@sender.test
                    smtp_server: 127.0.0.1:2525
                    smtp_tls: none

                """, ct);
            var send = await DaemonProcess.RunCliAsync(ca.ChildEnvironment, ["tlsrpt", "send", "--day", "today", "--config", sendConfig, "--dns", dns.ResolverEndpoint.ToString()], ct);
            var reportSink = sinks["mx.reports.test"];
            for (int i = 0; i < 300 && reportSink.Messages.Count < send.Stdout.Split('\n').Count(l => l.StartsWith("delivered ", StringComparison.Ordinal)); i++)
                await Task.Delay(100, ct);
            await Task.Delay(1000, ct); // a datagram a report mail might (wrongly) cause
            var datagramsAfterReports = await StableDatagramCountAsync(daemon, ct);
            // Control: an ordinary mail to the same rua domain, through the ordinary smtp transport, is reported.
            string controlId = await PostfixInstance.SubmitAsync("user@reports.test", ct);
            var control = await WaitForStatusAsync(postfix, new() { ["control"] = (controlId, "user@reports.test") }, ct);
            var datagramsAfterControl = await StableDatagramCountAsync(daemon, ct);

            // Each report mail: headers, attachment name, gunzipped JSON; then imported by a receiver.
            var reportMails = new List<object>();
            string rcvConfig = Path.Combine(work, "receiver.yaml");
            await File.WriteAllTextAsync(rcvConfig, $"tlsrpt:\n  database: {Path.Combine(work, "received.db")}\n", ct);
            var imports = new List<string>();
            int n = 0;
            foreach (var msg in reportSink.Messages.Where(m => m.Sender == "tlsrpt-noreply@sender.test"))
            {
                var mail = await MimeMessage.LoadAsync(new MemoryStream(Encoding.UTF8.GetBytes(msg.Data)), ct);
                var part = ((Multipart)mail.Body!).OfType<MimePart>().Single(p => p.ContentType.MimeType == "application/tlsrpt+gzip");
                using var raw = new MemoryStream();
                await part.Content!.DecodeToAsync(raw, ct);
                raw.Position = 0;
                using var gz = new GZipStream(raw, CompressionMode.Decompress);
                string json = await new StreamReader(gz).ReadToEndAsync(ct);
                reportMails.Add(new
                {
                    recipient = msg.Recipient, sender = msg.Sender, over_tls = msg.OverTls,
                    domain = mail.Headers["TLS-Report-Domain"], submitter = mail.Headers["TLS-Report-Submitter"],
                    subject = mail.Subject, file_name = part.FileName, report = JsonDocument.Parse(json).RootElement.Clone(),
                });
                string eml = Path.Combine(work, $"report{n++}.eml");
                await File.WriteAllTextAsync(eml, msg.Data, ct);
                var import = await DaemonProcess.RunCliAsync(ca.ChildEnvironment, ["tlsrpt", "import", eml, "--config", rcvConfig], ct);
                imports.Add($"exit {import.ExitCode}: {import.Stdout}{import.Stderr}");
            }
            var summary = await DaemonProcess.RunCliAsync(ca.ChildEnvironment, ["tlsrpt", "summary", "--config", rcvConfig], ct);

            string log = postfix.Log;
            var results = Cases.Select(c => new
            {
                domain = c.Domain,
                map = c.Map,
                portcullis = answers[c.Domain],
                status = status.GetValueOrDefault(c.Domain, "(none)"),
                mx = c.Mx.Select(m => new
                {
                    host = m.Host,
                    sink_messages = sinks[m.Host].Messages.Count,
                    sink_tls_messages = sinks[m.Host].Messages.Count(x => x.OverTls),
                    tls = Regex.Matches(log, $@"(\w+) TLS connection established to {Regex.Escape(m.Host)}\[").Select(x => x.Groups[1].Value).ToArray(),
                }).ToArray(),
                log = Regex.Matches(log, $@"[^\n]*{Regex.Escape(c.Domain)}[^\n]*").Select(x => x.Value.Trim()).ToArray(),
            }).ToList();
            await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(new
            {
                postfix_version = version, results, datagrams, datagrams_after_reports = datagramsAfterReports,
                control_status = control.GetValueOrDefault("control", "(none)"), datagrams_after_control = datagramsAfterControl,
                send = send.Stdout + send.Stderr, send_exit = send.ExitCode, report_mails = reportMails, imports,
                summary = summary.Stdout + summary.Stderr, postfix_log = log, daemon_log = daemon.Output,
            }, new JsonSerializerOptions { WriteIndented = true }), ct);
            return 0;
        }
        finally
        {
            foreach (var s in sinks.Values)
                await s.DisposeAsync();
            Directory.Delete(work, true);
        }
    }

    /// <summary>Waits until each message has its first delivery status (sent, deferred or bounced).</summary>
    private static async Task<Dictionary<string, string>> WaitForStatusAsync(RootPostfix postfix, Dictionary<string, (string Id, string To)> ids, CancellationToken ct)
    {
        var status = new Dictionary<string, string>();
        for (int i = 0; i < 900 && status.Count < ids.Count; i++)
        {
            string log = postfix.Log;
            foreach (var (key, (id, to)) in ids)
            {
                var m = Regex.Match(log, $@"{Regex.Escape(id)}: to=<{Regex.Escape(to)}>.*? status=(\w+) (.*)");
                if (m.Success)
                    status[key] = m.Groups[1].Value + " " + m.Groups[2].Value;
            }
            await Task.Delay(100, ct);
        }
        return status;
    }

    /// <summary>The collector's counters once they stop changing (datagrams follow the session's end).</summary>
    private static async Task<Dictionary<string, long>> StableDatagramCountAsync(DaemonProcess daemon, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string last = "";
        var counts = new Dictionary<string, long>();
        for (int i = 0; i < 20; i++)
        {
            string metrics = await http.GetStringAsync($"http://127.0.0.1:{daemon.Port}/metrics", ct);
            string now = string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("portcullis_tlsrpt_", StringComparison.Ordinal)));
            if (now == last && i >= 2)
                break;
            last = now;
            await Task.Delay(500, ct);
        }
        foreach (Match m in Regex.Matches(last, @"portcullis_tlsrpt_datagrams_total\{outcome=""(\w+)""\} (\d+)"))
            counts[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return counts;
    }

    private static string MainCf(int port) => $$"""
        compatibility_level = 3.10
        maillog_file = {{RootPostfix.LogInside}}
        myhostname = mta.sender.test
        mydomain = sender.test
        myorigin = sender.test
        mydestination =
        relayhost =
        alias_maps =
        alias_database =
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        mynetworks = 127.0.0.0/8
        smtpd_relay_restrictions = permit_mynetworks, reject
        smtp_dns_support_level = dnssec
        smtp_tls_security_level = dane
        smtp_tls_policy_maps = socketmap:inet:127.0.0.1:{{port}}:QUERYwithTLSRPT
        smtp_tls_CAfile = /etc/postfix/ca.pem
        smtp_tls_loglevel = 1
        smtp_tlsrpt_enable = yes
        smtp_tlsrpt_socket_name = tlsrpt/tlsrpt.sock
        sender_dependent_default_transport_maps = inline:{ tlsrpt-noreply@sender.test=tlsrpt-out: }
        transport_maps = inline:{ wild2.sts.test=smtp-query: }
        smtp_connect_timeout = 5s
        smtp_address_preference = ipv4
        maximal_queue_lifetime = 1h
        bounce_queue_lifetime = 1h

        """;

    private static string MasterCf(int port) => $"""
        127.0.0.1:2525 inet n - n - - smtpd
        pickup    unix n - n 60 1 pickup
        cleanup   unix n - n - 0 cleanup
        qmgr      unix n - n 300 1 qmgr
        tlsmgr    unix - - n 1000? 1 tlsmgr
        rewrite   unix - - n - - trivial-rewrite
        bounce    unix - - n - 0 bounce
        defer     unix - - n - 0 bounce
        trace     unix - - n - 0 bounce
        verify    unix - - n - 1 verify
        flush     unix n - n 1000? 0 flush
        proxymap  unix - - n - - proxymap
        proxywrite unix - - n - 1 proxymap
        smtp      unix - - n - - smtp
        relay     unix - - n - - smtp
        showq     unix n - n - - showq
        error     unix - - n - - error
        retry     unix - - n - - error
        discard   unix - - n - - discard
        anvil     unix - - n - 1 anvil
        scache    unix - - n - 1 scache
        postlog   unix-dgram n - n - 1 postlogd
        tlsrpt-out unix - - n - - smtp
          -o smtp_tlsrpt_enable=no
          -o syslog_name=postfix/tlsrpt-out
        smtp-query unix - - n - - smtp
          -o smtp_tls_policy_maps=socketmap:inet:127.0.0.1:{port}:QUERY
          -o smtp_tlsrpt_enable=no
          -o syslog_name=postfix/smtp-query

        """;
}
