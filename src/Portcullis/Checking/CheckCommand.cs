using System.Text.Json;
using Portcullis.Configuration;
using Portcullis.Core.Checking;
using Portcullis.Core.Protocol;
using Portcullis.Http;

namespace Portcullis.Checking;

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
            o.WriteLine(JsonSerializer.Serialize(new { domain = hop.Domain, items = items.Select(i => new
            {
                area = i.Area, title = i.Title, status = i.Status.ToString().ToLowerInvariant(), detail = i.Detail, fix = i.Fix,
            }) }, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            o.Write(DomainChecker.Render(hop.Domain, items));
        }
        return items.Any(i => i.Status == CheckStatus.Fail) ? 1 : 0;
    }
}
