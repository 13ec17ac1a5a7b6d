using System.Text.Json;
using Portcullis.Configuration;
using Portcullis.Core.Checking;
using Portcullis.Core.Protocol;
using Portcullis.Http;
using Portcullis.Checking;

namespace Portcullis.Cli;

public static class CheckCommand
{
    /// <summary>Per address: connect, greeting, EHLO, STARTTLS and the TLS handshake together.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(Settings settings, string key, bool json, TextWriter o, CancellationToken ct)
    {
        var hop = NextHopParser.Parse(key);
        if (hop.Kind != NextHopKind.Domain)
        {
            await Console.Error.WriteLineAsync($"portcullis: '{key}' is not a domain name");
            return 64;
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
        return items.Any(i => i.Status == CheckStatus.Fail) ? 1 : 0;
    }
}

/// <summary>`check --json`: the findings as data.</summary>
internal sealed record CheckJson(string Domain, IReadOnlyList<CheckItemJson> Items);

internal sealed record CheckItemJson(string Area, string Title, string Status, string Detail, string? Fix);

/// <summary>Generated at build time (no reflection, AOT-safe).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CheckJson))]
internal sealed partial class CheckJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
