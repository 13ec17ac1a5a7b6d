using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Portcullis.Cli;

/// <summary>
/// <c>portcullis postfix-setup</c>: reads the installed Postfix's version and settings with postconf and prints
/// the exact main.cf/master.cf lines for that version; <c>--apply</c> writes them with <c>postconf -e</c>/<c>-M</c>/<c>-P</c>.
/// </summary>
public static partial class PostfixSetupCommand
{
    // postconf answers from local files; anything slower is stuck.
    private static readonly TimeSpan PostconfTimeout = TimeSpan.FromSeconds(20);
    private const string Transport = "tlsrpt-out";
    private const string SocketName = "tlsrpt/tlsrpt.sock";

    public static Command Create()
    {
        var postconf = new Option<string>("--postconf") { Description = "postconf program to run", DefaultValueFactory = _ => "postconf" };
        var dir = new Option<string?>("--config-directory") { Description = "Postfix configuration directory (postconf -c)" };
        var socketmap = new Option<string>("--socketmap") { Description = "Where Portcullis listens", DefaultValueFactory = _ => "inet:127.0.0.1:8642" };
        var mailFrom = new Option<string?>("--mail-from") { Description = "tlsrpt.send.mail_from (default tlsrpt-noreply@$mydomain)" };
        var apply = new Option<bool>("--apply") { Description = "Write the changes with postconf -e / -M / -P after showing them" };
        var cmd = new Command("postfix-setup", "Print (or --apply) the Postfix settings for this Postfix version") { postconf, dir, socketmap, mailFrom, apply };
        cmd.SetAction((p, ct) => RunAsync(p.GetValue(postconf)!, p.GetValue(dir), p.GetValue(socketmap)!, p.GetValue(mailFrom), p.GetValue(apply), Console.Out, ct));
        return cmd;
    }

    public static async Task<int> RunAsync(string postconf, string? configDir, string socketmap, string? mailFrom, bool apply, TextWriter output, CancellationToken ct)
    {
        string[] baseArgs = configDir is null ? [] : ["-c", configDir];
        async Task<(bool Ok, string Out, string Err)> Postconf(params string[] args)
        {
            var (code, o, e) = await RunProgramAsync(postconf, [.. baseArgs, .. args], ct);
            // postconf reports unknown parameters on stderr with exit 0.
            return (code == 0 && !e.Contains("unknown parameter", StringComparison.Ordinal), o.Trim(), e.Trim());
        }
        var version = await Postconf("-h", "mail_version");
        if (!version.Ok)
            return Fail(version.Err.Length > 0 ? version.Err.Split('\n')[0] : "postconf failed");
        var m = Version().Match(version.Out);
        if (!m.Success)
            return Fail($"cannot read Postfix version '{version.Out}'");
        var v = new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), m.Groups[3].Success ? int.Parse(m.Groups[3].Value) : 0);
        if (v < new Version(3, 4))
            return Fail($"Postfix {version.Out} is older than 3.4 (no socketmap TLS policy support tested); nothing changed");

        bool tlsrptKnown = v >= new Version(3, 10) && (await Postconf("-h", "smtp_tlsrpt_enable")).Ok;
        string domain = (await Postconf("-h", "mydomain")).Out;
        string queue = (await Postconf("-h", "queue_directory")).Out;
        string from = mailFrom ?? $"tlsrpt-noreply@{domain}";
        var smtp = await Postconf("-M", "smtp/unix");
        string chroot = smtp.Ok && smtp.Out.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is { Length: > 4 } f ? f[4] : "-";
        bool chrooted = chroot == "y"; // "-" is n since Postfix 3.0; Debian's master.cf says y

        output.WriteLine($"Postfix {version.Out}{(configDir is null ? "" : " (" + configDir + ")")}");
        if (v >= new Version(3, 10) && v < new Version(3, 10, 6))
            output.WriteLine($"warning: Postfix {version.Out}: upgrade to 3.10.6 or later (3.10.0-3.10.5 crash on some TLSRPT policies; smtp_tls_enforce_sts_mx_patterns needs 3.10.5)");
        if (v >= new Version(3, 10) && !tlsrptKnown)
            output.WriteLine("warning: this Postfix is built without TLSRPT support (no smtp_tlsrpt_enable): no TLS-RPT reporting");
        if (v < new Version(3, 10))
            output.WriteLine($"note: Postfix {version.Out} has no TLSRPT support; map name QUERY (QUERYwithTLSRPT needs 3.10)");

        var main = new List<(string Name, string Value)>
        {
            ("smtp_tls_policy_maps", $"socketmap:{socketmap}:{(v >= new Version(3, 10) ? "QUERYwithTLSRPT" : "QUERY")}"),
            ("smtp_dns_support_level", "dnssec"),
            ("smtp_tls_security_level", "dane"),
        };
        if (tlsrptKnown)
        {
            main.Add(("smtp_tlsrpt_enable", "yes"));
            main.Add(("smtp_tlsrpt_socket_name", SocketName));
            main.Add(("sender_dependent_default_transport_maps", $"inline:{{ {from}={Transport}: }}"));
        }
        var changes = new List<(string Name, string Value)>();
        output.WriteLine("# main.cf");
        foreach (var (name, value) in main)
        {
            string current = (await Postconf("-h", name)).Out;
            bool same = current == value;
            output.WriteLine($"{name} = {value}{(same ? "    # already set" : current.Length > 0 ? $"    # was: {current}" : "")}");
            if (!same)
                changes.Add((name, value));
        }
        bool needTransport = false;
        if (tlsrptKnown)
        {
            var existing = await Postconf("-M", $"{Transport}/unix");
            needTransport = !existing.Ok || existing.Out.Length == 0;
            string c = chrooted ? "y" : "n";
            output.WriteLine("# master.cf" + (needTransport ? "" : "    # tlsrpt-out already defined"));
            output.WriteLine($"{Transport} unix  -       -       {c}       -       -       smtp");
            output.WriteLine("  -o smtp_tlsrpt_enable=no");
            output.WriteLine($"  -o syslog_name=postfix/{Transport}");
            output.WriteLine("# portcullis.yaml");
            output.WriteLine($"tlsrpt.collect_socket: {queue}/{SocketName}" + (chrooted ? "    # smtp runs chrooted: inside queue_directory" : ""));
            output.WriteLine($"tlsrpt.send.mail_from: {from}");
        }
        if (!apply)
        {
            output.WriteLine(changes.Count == 0 && !needTransport ? "nothing to change" : "run with --apply to write these settings");
            return ExitCodes.Ok;
        }
        foreach (var (name, value) in changes)
        {
            if (await Postconf("-e", $"{name}={value}") is { Ok: false } r)
                return Fail($"postconf -e {name} failed: {r.Err.Split('\n')[0]}");
        }
        if (needTransport)
        {
            string c = chrooted ? "y" : "n";
            foreach (var args in new[]
            {
                new[] { "-M", $"{Transport}/unix={Transport} unix - - {c} - - smtp" },
                ["-P", $"{Transport}/unix/smtp_tlsrpt_enable=no"],
                ["-P", $"{Transport}/unix/syslog_name=postfix/{Transport}"],
            })
            {
                if (await Postconf(args) is { Ok: false } r)
                    return Fail($"postconf {args[0]} failed: {r.Err.Split('\n')[0]}");
            }
        }
        output.WriteLine($"applied {changes.Count} main.cf setting(s){(needTransport ? $" and the {Transport} transport" : "")}; run postfix reload");
        return ExitCodes.Ok;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("portcullis: postfix-setup: " + message.Replace("\n", " ", StringComparison.Ordinal));
        return ExitCodes.Failed;
    }

    internal static async Task<(int Code, string Out, string Err)> RunProgramAsync(string program, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (127, "", $"cannot run {program} (is Postfix installed?)");
        }
        using (p)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(PostconfTimeout);
            var o = p.StandardOutput.ReadToEndAsync(timeout.Token);
            var e = p.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(true);
                return (124, "", $"{program} did not answer within {PostconfTimeout.TotalSeconds:F0} s");
            }
            return (p.ExitCode, await o, await e);
        }
    }

    [GeneratedRegex(@"^(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex Version();
}
