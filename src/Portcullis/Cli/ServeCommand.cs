using System.CommandLine;
using Portcullis.Hosting;

namespace Portcullis.Cli;

/// <summary><c>serve</c>: the daemon (see <see cref="Daemon"/>).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var listen = new Option<string[]>("--listen")
        {
            Description = "Socketmap listener HOST:PORT or unix:/path (repeatable; replaces the configured list)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cache = new Option<string?>("--cache") { Description = "SQLite cache file" };
        var cmd = new Command("serve", "Run the policy daemon") { config, listen, dns, cache };
        CommonOptions.SetRun(cmd, config, (parse, c) =>
        {
            if (parse.GetValue(listen) is { Length: > 0 } l)
                c.Listen = [.. l];
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
            if (parse.GetValue(cache) is { } p)
                c.Cache.Path = CommonOptions.FullPath(p);
        }, (_, s, ct) => Daemon.RunAsync(s, s.ConfigFile, ct));
        return cmd;
    }
}
