using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Cache;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Server;

namespace Portcullis.Cli;

/// <summary>
/// <c>cache list|show|purge|export</c>: asks the running daemon over its control socket, or, when no
/// daemon answers there, reads the cache file directly.
/// </summary>
public static class CacheCommand
{
    public static async Task<int> ListAsync(Settings s, bool export, TextWriter o, TextWriter err, CancellationToken ct)
    {
        var items = await FetchAsync(s, "list", err, ct);
        if (items is null)
            return 1;
        if (export)
        {
            o.WriteLine($"# Portcullis policies exported {DateTimeOffset.UtcNow:u}; build with: postmap hash:FILE");
            foreach (var line in items.Select(i => i.ExportLine()).OfType<string>())
                o.WriteLine(line);
            return 0;
        }
        o.WriteLine($"{"DOMAIN",-40} {"SOURCE",-8} {"EXPIRES (UTC)",-20} {"HITS",6}  ANSWER");
        foreach (var i in items)
            o.WriteLine($"{i.Domain,-40} {i.Source,-8} {i.Expires?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") ?? "-",-20} {i.Hits?.ToString() ?? "-",6}  {i.Answer}");
        o.WriteLine($"{items.Count} domain(s)");
        return 0;
    }

    public static async Task<int> ShowAsync(Settings s, string key, TextWriter o, TextWriter err, CancellationToken ct)
    {
        string? domain = ControlConnectionHandler.Normalize(key);
        if (domain is null)
        {
            err.WriteLine($"portcullis: '{key}' is not a domain name");
            return 64;
        }
        var items = await FetchAsync(s, "show " + domain, err, ct);
        if (items is null)
            return 1;
        var cached = items.FirstOrDefault(i => i.Domain == domain);
        o.WriteLine(cached is null
            ? $"Cached:          nothing for {domain}"
            : $"Cached:          {cached.Answer} (source {cached.Source}, expires {cached.Expires:u}, {cached.Hits?.ToString() ?? "?"} hit(s))\n  why:           {cached.Reason}");
        o.WriteLine("Live resolution:");
        var live = new StringWriter();
        int exit = await QueryCommand.RunAsync(s, domain, false, live, ct);
        foreach (string line in live.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            o.WriteLine("  " + line);
        string? liveId = live.ToString().Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("verdict:", StringComparison.Ordinal) && l.Contains(", id ", StringComparison.Ordinal)) is { } v
            ? v[(v.IndexOf(", id ", StringComparison.Ordinal) + 5)..].Split(':')[0]
            : null;
        if (cached?.PolicyId is { } cachedId)
        {
            o.WriteLine(liveId is null ? $"Policy id:       cached {cachedId}; no valid TXT record now (the cached policy still applies until it expires)"
                : liveId == cachedId ? $"Policy id:       unchanged ({cachedId})"
                : $"Policy id:       CHANGED: cached {cachedId}, DNS now says {liveId}; the next lookup re-fetches the policy");
        }
        o.WriteLine(cached is not null && live.ToString().Contains("Postfix answer:  " + cached.Answer, StringComparison.Ordinal)
            ? "Cached and live answers agree."
            : "Cached and live answers DIFFER (or nothing is cached).");
        return exit;
    }

    public static async Task<int> PurgeAsync(Settings s, string? key, TextWriter o, TextWriter err, CancellationToken ct)
    {
        string? domain = key is null ? null : ControlConnectionHandler.Normalize(key);
        if (key is not null && domain is null)
        {
            err.WriteLine($"portcullis: '{key}' is not a domain name");
            return 64;
        }
        if (await AskDaemonAsync(s, domain is null ? "purge" : "purge " + domain, ct) is { } json)
        {
            o.WriteLine($"purged {JsonDocument.Parse(json).RootElement.GetProperty("purged").GetInt32()} entries in the running daemon");
            return 0;
        }
        err.WriteLine($"portcullis: no daemon answers on {s.ControlSocket}; purging the {s.Config.Cache.Type} cache directly");
        await using var store = s.OpenStore(NullLogger.Instance);
        o.WriteLine($"purged {await store.PurgeAsync(domain, ct)} entries from the {s.Config.Cache.Type} cache");
        return 0;
    }

    private static async Task<IReadOnlyList<CacheItem>?> FetchAsync(Settings s, string command, TextWriter err, CancellationToken ct)
    {
        if (await AskDaemonAsync(s, command, ct) is { } json)
            return JsonSerializer.Deserialize<List<CacheItem>>(json, ControlConnectionHandler.Json) ?? [];
        if (s.Config.Cache.Type == "sqlite" && !File.Exists(s.CachePath))
        {
            err.WriteLine($"portcullis: no daemon answers on {s.ControlSocket ?? "(control socket disabled)"} and there is no cache file {s.CachePath}");
            return null;
        }
        err.WriteLine($"portcullis: no daemon answers on {s.ControlSocket ?? "(control socket disabled)"}; reading the {s.Config.Cache.Type} cache directly");
        await using var store = s.OpenStore(NullLogger.Instance);
        var items = CacheItem.Join(await store.ListDaneAsync(ct), await store.ListAsync(ct), new StsEngine(s.Sts), s.Render,
            DateTimeOffset.UtcNow, _ => null);
        return command.StartsWith("show ", StringComparison.Ordinal) ? items.Where(i => i.Domain == command[5..]).ToList() : items;
    }

    /// <summary>One command over the control socket; null when no daemon answers.</summary>
    private static async Task<string?> AskDaemonAsync(Settings s, string command, CancellationToken ct)
    {
        if (s.ControlSocket is not { } path || !File.Exists(path))
            return null;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
            await socket.SendAsync(Encoding.UTF8.GetBytes(command + "\n"), cts.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(cts.Token);
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
