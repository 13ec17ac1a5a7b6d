using System.CommandLine;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Configuration;
using Portcullis.Core.Dns;
using Portcullis.Core.Postfix;
using Portcullis.Dns;
using Portcullis.Hosting;

namespace Portcullis.Cli;

/// <summary>
/// <c>portcullis doctor</c>: checks the live Postfix ↔ Portcullis integration and prints one line per check
/// (<c>ok</c>/<c>warn</c>/<c>FAIL</c>, what was found, the fix). Exit <see cref="ExitFailed"/> when any check fails.
/// The decisions are in <see cref="DoctorRules"/>; this class only gathers the facts.
/// </summary>
public static class DoctorCommand
{
    public const int ExitFailed = ExitCodes.Failed;
    /// <summary>The key asked through the map: .invalid never exists (RFC 6761), so every resolver answers it at once.</summary>
    public const string DefaultDomain = "portcullis-doctor.invalid";
    /// <summary>Bounds the direct socketmap question (the daemon bounds its own resolution far below this).</summary>
    public static readonly TimeSpan SocketmapTimeout = TimeSpan.FromSeconds(20);
    /// <summary>Per DNS query to a nameserver of resolv.conf (2 attempts).</summary>
    public static readonly TimeSpan NameserverTimeout = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var postconf = new Option<string>("--postconf") { Description = "postconf program to run", DefaultValueFactory = _ => "postconf" };
        var postmap = new Option<string?>("--postmap") { Description = "postmap program to run (default: next to --postconf)" };
        var dir = new Option<string?>("--config-directory") { Description = "Postfix configuration directory (postconf -c)" };
        var fsRoot = new Option<string>("--root") { Description = "Postfix's file system root (resolv.conf, passwd, queue directory)", DefaultValueFactory = _ => "/" };
        var domain = new Option<string>("--domain") { Description = "Key asked through the map", DefaultValueFactory = _ => DefaultDomain };
        var cmd = new Command("doctor", $"Check the live Postfix integration, one line per check. Exit {ExitFailed} on any FAIL")
        {
            config, dns, postconf, postmap, dir, fsRoot, domain,
        };
        CommonOptions.SetRun(cmd, config, dns, (parse, s, ct) => RunAsync(s, new(parse.GetValue(postconf)!, parse.GetValue(postmap),
            parse.GetValue(dir), parse.GetValue(fsRoot)!, parse.GetValue(domain)!), Console.Out, ct));
        return cmd;
    }

    public sealed record Options(string Postconf, string? Postmap, string? ConfigDirectory, string Root, string Domain);

    public static async Task<int> RunAsync(Settings settings, Options o, TextWriter output, CancellationToken ct)
    {
        var lines = new List<DoctorLine>();
        void Add(DoctorLine l)
        {
            lines.Add(l);
            output.WriteLine(l.ToString());
        }
        string[] baseArgs = o.ConfigDirectory is null ? [] : ["-c", o.ConfigDirectory];
        async Task<(bool Ok, string Out, string Err)> Postconf(params string[] args)
        {
            var (code, outText, err) = await PostfixSetupCommand.RunProgramAsync(o.Postconf, [.. baseArgs, .. args], ct);
            return (code == 0 && !err.Contains("unknown parameter", StringComparison.Ordinal), outText.Trim(), err.Trim());
        }

        var mailVersion = await Postconf("-h", "mail_version");
        var v = mailVersion.Ok ? DoctorRules.ParseVersion(mailVersion.Out) : null;
        if (v is null)
        {
            Add(new(DoctorStatus.Fail, "postfix", mailVersion.Ok ? $"cannot read the version '{mailVersion.Out}'" : DoctorProbes.FirstLine(mailVersion.Err, "postconf failed"),
                "install Postfix, or pass --postconf / --config-directory"));
            return Summary(lines, output);
        }
        string version = mailVersion.Out;
        Add(new(DoctorStatus.Ok, "postfix", $"{version}{(o.ConfigDirectory is null ? "" : " (" + o.ConfigDirectory + ")")}"));

        // 1. The map Postfix is configured with, asked through Postfix's own client.
        string maps = (await Postconf("-h", "smtp_tls_policy_maps")).Out;
        var entry = SocketmapEntry.FindIn(maps);
        if (entry is null)
            Add(new(DoctorStatus.Fail, "policy map", $"smtp_tls_policy_maps = '{maps}' has no socketmap entry", "portcullis postfix-setup --apply"));
        else
        {
            Add(await DoctorProbes.CheckMapAsync(o, baseArgs, entry, ct));
            Add(DoctorRules.MapName(v, version, entry));
        }

        // 2. The daemon's resolver: the same self-test it runs, against the configured dns.server.
        var health = new ResolverHealth(settings.CreateResolver(), TimeProvider.System, NullLogger<ResolverHealth>.Instance);
        var state = await health.CheckAsync(ct);
        Add(state.Validates == true
            ? new(DoctorStatus.Ok, "portcullis resolver", $"{settings.DnsServer} validates ({state.Detail})")
            : new(DoctorStatus.Fail, "portcullis resolver", $"{settings.DnsServer}: {state.Detail}", "point dns.server (or --dns) at a local validating resolver"));

        // 3. Postfix's own resolver (libc): resolv.conf of Postfix's root, and each nameserver's AD bit.
        foreach (var l in await DoctorProbes.CheckResolvConfAsync(o.Root, ct))
            Add(l);

        // 4. Levels.
        foreach (var l in DoctorRules.Levels((await Postconf("-h", "smtp_dns_support_level")).Out, (await Postconf("-h", "smtp_tls_security_level")).Out))
            Add(l);

        // 5. TLSRPT: the switch against the configuration, then the socket Postfix's smtp writes to.
        bool collecting = settings.Config.Tlsrpt.CollectSocket.Length > 0;
        string? enable = null;
        if (v >= DoctorRules.TlsRptVersion && await Postconf("-h", "smtp_tlsrpt_enable") is { Ok: true } e)
            enable = e.Out;
        Add(DoctorRules.TlsRptEnable(v, version, enable, collecting));
        if (enable == "yes")
            Add(await DoctorProbes.CheckTlsRptSocketAsync(o.Root, settings.Config.Tlsrpt.CollectSocket, Postconf));
        return Summary(lines, output);
    }

    private static int Summary(List<DoctorLine> lines, TextWriter output)
    {
        int fail = lines.Count(l => l.Status == DoctorStatus.Fail), warn = lines.Count(l => l.Status == DoctorStatus.Warn);
        output.WriteLine($"{lines.Count} check(s): {lines.Count - fail - warn} ok, {warn} warn, {fail} FAIL");
        return fail > 0 ? ExitFailed : ExitCodes.Ok;
    }
}
