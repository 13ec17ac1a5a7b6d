using System.CommandLine;
using System.Text.Json;
using Portcullis.Configuration;
using Portcullis.Core.Checking;
using Portcullis.Core.Protocol;
using Portcullis.Http;
using Portcullis.Checking;
using Portcullis.Hosting;

namespace Portcullis.Cli;

public static class CheckCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var json = CommonOptions.Json("Print the findings as JSON");
        var domain = new Argument<string>("domain") { Description = "The domain to audit" };
        var cmd = new Command("check", "Audit a domain's inbound MTA-STS, DANE and TLS-RPT setup. Exit 1 on failures")
        {
            domain, config, dns, json,
        };
        CommonOptions.SetRun(cmd, config, dns, (parse, s, ct) =>
            RunAsync(s, parse.GetValue(domain)!, parse.GetValue(json), Console.Out, Console.Error, ct));
        return cmd;
    }

    /// <summary>Per address: connect, greeting, EHLO, STARTTLS and the TLS handshake together.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(Settings settings, string key, bool json, TextWriter o, TextWriter err, CancellationToken ct)
    {
        var hop = NextHopParser.Parse(key);
        if (hop.Kind != NextHopKind.Domain)
        {
            await err.WriteLineAsync($"portcullis: '{key}' is not a domain name");
            return ExitCodes.Usage;
        }
        var dns = settings.CreateResolver();
        using var fetcher = new PolicyFetcher(dns, settings.Fetch, TimeProvider.System);
        var items = await new DomainChecker(dns, fetcher, TimeProvider.System, ProbeTimeout).CheckAsync(hop.Domain, ct);
        if (json)
        {
            var report = new CheckJson(hop.Domain,
                [.. items.Select(i => new CheckItemJson(i.Area, i.Title, i.Status.ToString().ToLowerInvariant(), i.Detail, i.Fix))]);
            o.WriteLine(JsonSerializer.Serialize(report, CheckJsonContext.Default.CheckJson));
        }
        else
        {
            o.Write(DomainChecker.Render(hop.Domain, items));
        }
        return items.Any(i => i.Status == CheckStatus.Fail) ? ExitCodes.Failed : ExitCodes.Ok;
    }
}

/// <summary>`check --json`: the findings as data.</summary>
internal sealed record CheckJson(string Domain, IReadOnlyList<CheckItemJson> Items);

internal sealed record CheckItemJson(string Area, string Title, string Status, string Detail, string? Fix);

/// <summary>Generated at build time (no reflection, AOT-safe).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CheckJson))]
internal sealed partial class CheckJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
