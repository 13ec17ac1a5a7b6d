using System.CommandLine;
using Portcullis.Cli;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Portcullis;

public static class Program
{
    public static async Task<int> Main(string[] args) => await BuildRoot().Parse(args).InvokeAsync();

    /// <summary>Every command and option (one file per command in Cli/); README's command table is checked against it.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Portcullis: MTA-STS and DANE TLS policy server for Postfix (socketmap)");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(QueryCommand.Create());
        root.Subcommands.Add(CacheCommand.Create());
        root.Subcommands.Add(PolicyHostCommand.Create());
        root.Subcommands.Add(RecordsCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(TlsRptCommand.Create());
        root.Subcommands.Add(PostfixSetupCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }
}
