using System.CommandLine;
using Portcullis.Configuration;
using Portcullis.Hosting.Http;
using Portcullis.Publishing;

namespace Portcullis.Cli;

/// <summary><c>policy-host</c>: checks every published domain's certificate, then serves (<see cref="PolicyHostServer"/>).</summary>
public static class PolicyHostCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var listen = new Option<string[]>("--listen")
        {
            Description = "HTTPS listener HOST:PORT (repeatable; replaces publish.listen)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cmd = new Command("policy-host", "Serve your domains' MTA-STS policies (publish.domains) over HTTPS") { config, listen };
        CommonOptions.SetRun(cmd, config, (parse, c) =>
        {
            if (parse.GetValue(listen) is { Length: > 0 } l)
                c.Publish.Listen = [.. l];
        }, (_, s, ct) => RunAsync(s, Console.Error, ct));
        return cmd;
    }

    public static async Task<int> RunAsync(Settings settings, TextWriter err, CancellationToken ct)
    {
        var domains = settings.PublishedDomains;
        if (domains.Count == 0)
        {
            await err.WriteLineAsync("portcullis: publish.domains is empty: nothing to serve");
            return ExitCodes.Config;
        }
        foreach (var (domain, (_, cfg)) in domains)
        {
            if (cfg.Certificate.Length == 0 || cfg.Key.Length == 0)
            {
                await err.WriteLineAsync($"portcullis: publish.domains.{domain}: certificate and key are required for policy-host");
                return ExitCodes.Config;
            }
            // Refuse to start rather than fail every handshake later (renewals are re-read while running).
            if (CertificateFiles.Check(cfg.Certificate, cfg.Key) is { } problem)
            {
                await err.WriteLineAsync($"portcullis: publish.domains.{domain}: {problem.Message}");
                return problem.ExitCode;
            }
        }
        return await PolicyHostServer.RunAsync(settings, ct);
    }
}
