using System.CommandLine;
using Portcullis.Cli;
using Portcullis.Configuration;
using Portcullis.Hosting;
using Portcullis.Hosting.Http;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Portcullis;

public static class Program
{
    public static async Task<int> Main(string[] args) => await BuildRoot().Parse(args).InvokeAsync();

    /// <summary>Every command and option; README's command table is checked against it.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Portcullis: MTA-STS and DANE TLS policy server for Postfix (socketmap)");
        root.Subcommands.Add(ServeCommand());
        root.Subcommands.Add(QueryCommandLine());
        root.Subcommands.Add(CacheCommandLine());
        root.Subcommands.Add(PolicyHostCommandLine());
        root.Subcommands.Add(RecordsCommandLine());
        root.Subcommands.Add(CheckCommandLine());
        root.Subcommands.Add(TlsRptCommandLine());
        root.Subcommands.Add(PostfixSetupCommand.Create());
        root.Subcommands.Add(DoctorCommandLine());
        return root;
    }

    private static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "YAML configuration file (every key has a default); default: " + ConfigLoader.DefaultFile +
            " if it exists, else the built-in defaults",
    };

    private static Option<string?> DnsOption() => new("--dns")
    {
        Description = "Validating resolver HOST[:PORT] (default: first nameserver in /etc/resolv.conf)",
    };

    private static Command ServeCommand()
    {
        var config = ConfigOption();
        var dns = DnsOption();
        var listen = new Option<string[]>("--listen")
        {
            Description = "Socketmap listener HOST:PORT or unix:/path (repeatable; replaces the configured list)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cache = new Option<string?>("--cache") { Description = "SQLite cache file" };
        var cmd = new Command("serve", "Run the policy daemon") { config, listen, dns, cache };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
        {
            if (parse.GetValue(listen) is { Length: > 0 } l)
                c.Listen = [.. l];
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
            if (parse.GetValue(cache) is { } p)
                c.Cache.Path = Path.GetFullPath(p); // a command-line path is relative to where it was typed
        }, s => Daemon.RunAsync(s, s.ConfigFile, ct)));
        return cmd;
    }

    private static Command QueryCommandLine()
    {
        var config = ConfigOption();
        var dns = DnsOption();
        var json = new Option<bool>("--json") { Description = "Print the evidence as JSON" };
        var domain = new Argument<string>("domain") { Description = "Recipient domain or Postfix next-hop" };
        var cmd = new Command("query", "Resolve one domain live, explain the decision, and say whether the running daemon's cache agrees. Exit: 0 policy, 1 no policy, 2 temporary failure")
        {
            domain, config, dns, json,
        };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
        {
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
        }, s => QueryCommand.RunAsync(s, parse.GetValue(domain)!, parse.GetValue(json), Console.Out, ct)));
        return cmd;
    }

    private static Command CacheCommandLine()
    {
        var cache = new Command("cache", "Inspect or change the policy cache (via the running daemon's control socket, else the cache file)");
        Command Sub(string name, string description, Func<ParseResult, Settings, CancellationToken, Task<int>> run,
            params Symbol[] extra)
        {
            var config = ConfigOption();
            var file = new Option<string?>("--cache") { Description = "SQLite cache file (when no daemon runs)" };
            var cmd = new Command(name, description) { config, file };
            foreach (var e in extra)
            {
                if (e is Argument a)
                    cmd.Arguments.Add(a);
                else if (e is Option o)
                    cmd.Options.Add(o);
            }
            cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
            {
                if (parse.GetValue(file) is { } f)
                    c.Cache.Path = Path.GetFullPath(f);
            }, s => run(parse, s, ct)));
            return cmd;
        }
        var showDomain = new Argument<string>("domain");
        var purgeDomain = new Argument<string?>("domain") { Arity = ArgumentArity.ZeroOrOne };
        cache.Subcommands.Add(Sub("list", "What Postfix gets now for every cached domain, from where (cache, override, expired), expiry and hits",
            (_, s, ct) => CacheCommand.ListAsync(s, false, Console.Out, Console.Error, ct)));
        cache.Subcommands.Add(Sub("show", "What Postfix gets now for one domain and why, beside a live resolution, with policy id change detection",
            (p, s, ct) => CacheCommand.ShowAsync(s, p.GetValue(showDomain)!, Console.Out, Console.Error, ct), showDomain));
        cache.Subcommands.Add(Sub("purge", "Forget one domain, or everything",
            (p, s, ct) => CacheCommand.PurgeAsync(s, p.GetValue(purgeDomain), Console.Out, Console.Error, ct), purgeDomain));
        cache.Subcommands.Add(Sub("export", "What Postfix gets now, in Postfix hash-table format (postmap hash:FILE)",
            (_, s, ct) => CacheCommand.ListAsync(s, true, Console.Out, Console.Error, ct)));
        return cache;
    }

    private static Command PolicyHostCommandLine()
    {
        var config = ConfigOption();
        var listen = new Option<string[]>("--listen")
        {
            Description = "HTTPS listener HOST:PORT (repeatable; replaces publish.listen)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cmd = new Command("policy-host", "Serve your domains' MTA-STS policies (publish.domains) over HTTPS") { config, listen };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
        {
            if (parse.GetValue(listen) is { Length: > 0 } l)
                c.Publish.Listen = [.. l];
        }, s => PolicyHostServer.RunAsync(s, ct)));
        return cmd;
    }

    private static Command TlsRptCommandLine()
    {
        var tlsrpt = new Command("tlsrpt", "TLS-RPT (RFC 8460): receive and summarise reports; report this server's own sessions");
        var importConfig = ConfigOption();
        var paths = new Argument<string[]>("path") { Description = ".json / .json.gz report, mail message, Maildir, or a directory of .json, .json.gz and .eml files", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Store reports from files, mail messages or a Maildir (duplicates are skipped)") { paths, importConfig };
        import.SetAction((parse, _) => WithSettings(parse.GetValue(importConfig), _ => { },
            s => Task.FromResult(TlsRptCommand.Import(s, parse.GetValue(paths)!, Console.Out))));
        var summaryConfig = ConfigOption();
        var domain = new Option<string?>("--domain") { Description = "Only this policy domain" };
        var since = new Option<string?>("--since") { Description = "YYYY-MM-DD (default: 30 days ago)" };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many rows",
            DefaultValueFactory = _ => TlsRptCommand.DefaultSummaryLimit,
        };
        var summary = new Command("summary", "Sessions per policy domain, type and day, with failure types and sending MTA IPs")
        {
            summaryConfig, domain, since, limit,
        };
        summary.SetAction((parse, ct) => WithSettings(parse.GetValue(summaryConfig), _ => { },
            s => TlsRptCommand.SummaryAsync(s, parse.GetValue(domain), parse.GetValue(since), Console.Out, ct,
                Math.Max(1, parse.GetValue(limit)))));
        var sendConfig = ConfigOption();
        var day = new Option<string?>("--day") { Description = "Also report this day now (YYYY-MM-DD or 'today'), even if it is not over" };
        var sendDns = DnsOption();
        var send = new Command("send", "Generate due reports about this server's sessions (tlsrpt.collect_socket) and deliver pending ones")
        {
            sendConfig, day, sendDns,
        };
        send.SetAction((parse, ct) => WithSettings(parse.GetValue(sendConfig), c =>
        {
            if (parse.GetValue(sendDns) is { } d)
                c.Dns.Server = d;
        },
            s => TlsRptCommand.SendAsync(s, parse.GetValue(day), Console.Out, ct)));
        var sentConfig = ConfigOption();
        var sentSince = new Option<string?>("--since") { Description = "YYYY-MM-DD (default: 30 days ago)" };
        var sent = new Command("sent", "Reports generated about this server's sessions and the state of each delivery") { sentConfig, sentSince };
        sent.SetAction((parse, ct) => WithSettings(parse.GetValue(sentConfig), _ => { },
            s => TlsRptCommand.SentAsync(s, parse.GetValue(sentSince), Console.Out, ct)));
        tlsrpt.Subcommands.Add(import);
        tlsrpt.Subcommands.Add(summary);
        tlsrpt.Subcommands.Add(send);
        tlsrpt.Subcommands.Add(sent);
        return tlsrpt;
    }

    private static Command CheckCommandLine()
    {
        var config = ConfigOption();
        var dns = DnsOption();
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON" };
        var domain = new Argument<string>("domain") { Description = "The domain to audit" };
        var cmd = new Command("check", "Audit a domain's inbound MTA-STS, DANE and TLS-RPT setup. Exit 1 on failures")
        {
            domain, config, dns, json,
        };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
        {
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
        }, s => CheckCommand.RunAsync(s, parse.GetValue(domain)!, parse.GetValue(json), Console.Out, ct)));
        return cmd;
    }

    private static Command DoctorCommandLine()
    {
        var config = ConfigOption();
        var dns = DnsOption();
        var postconf = new Option<string>("--postconf") { Description = "postconf program to run", DefaultValueFactory = _ => "postconf" };
        var postmap = new Option<string?>("--postmap") { Description = "postmap program to run (default: next to --postconf)" };
        var dir = new Option<string?>("--config-directory") { Description = "Postfix configuration directory (postconf -c)" };
        var fsRoot = new Option<string>("--root") { Description = "Postfix's file system root (resolv.conf, passwd, queue directory)", DefaultValueFactory = _ => "/" };
        var domain = new Option<string>("--domain") { Description = "Key asked through the map", DefaultValueFactory = _ => DoctorCommand.DefaultDomain };
        var cmd = new Command("doctor", $"Check the live Postfix integration, one line per check. Exit {DoctorCommand.ExitFailed} on any FAIL")
        {
            config, dns, postconf, postmap, dir, fsRoot, domain,
        };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), c =>
        {
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
        }, s => DoctorCommand.RunAsync(s, new(parse.GetValue(postconf)!, parse.GetValue(postmap), parse.GetValue(dir), parse.GetValue(fsRoot)!,
            parse.GetValue(domain)!), Console.Out, ct)));
        return cmd;
    }

    private static Command RecordsCommandLine()
    {
        var config = ConfigOption();
        var domain = new Argument<string>("domain") { Description = "A domain from publish.domains" };
        var cmd = new Command("records", "Print the DNS records to publish for one of your domains (zone-file syntax)") { domain, config };
        cmd.SetAction((parse, ct) => WithSettings(parse.GetValue(config), _ => { },
            s => Task.FromResult(RecordsCommand.Run(s, parse.GetValue(domain)!, Console.Out, Console.Error))));
        return cmd;
    }

    private static async Task<int> WithSettings(string? path, Action<PortcullisConfig> overrides, Func<Settings, Task<int>> run)
    {
        Settings settings;
        try
        {
            // Command-line options replace file values before validation, so they can fix a bad one.
            path = ConfigLoader.ResolvePath(path);
            var config = ConfigLoader.Read(path);
            ConfigLoader.Override(config, overrides);
            settings = new Settings(ConfigLoader.Validate(config)) { ConfigFile = path };
        }
        catch (ConfigException ex)
        {
            foreach (string error in ex.Errors)
                await Console.Error.WriteLineAsync("portcullis: configuration error: " + error);
            return ExitCodes.Config;
        }
        try
        {
            return await run(settings);
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync("portcullis: " + ex.Message);
            return ex.ExitCode;
        }
    }
}
