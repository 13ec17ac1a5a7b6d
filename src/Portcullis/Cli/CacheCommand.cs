using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.MtaSts;
using Portcullis.Resolution;
using Portcullis.Hosting.Control;
using Portcullis.Hosting;

namespace Portcullis.Cli;

/// <summary>
/// <c>cache list|show|purge|export</c>: asks the running daemon over its control socket, or, when no
/// daemon answers there, works on the configured store directly. Neither path creates a store: with
/// no daemon and no SQLite file there is nothing to show or purge, and every command says so alike.
/// </summary>
public static class CacheCommand
{
    public static Command Create()
    {
        var cache = new Command("cache", "Inspect or change the policy cache (via the running daemon's control socket, else the cache file)");
        Command Sub(string name, string description, Func<ParseResult, Settings, CancellationToken, Task<int>> run, Argument? argument = null)
        {
            var config = CommonOptions.Config();
            var file = new Option<string?>("--cache") { Description = "SQLite cache file (when no daemon runs)" };
            var cmd = new Command(name, description) { config, file };
            if (argument is not null)
                cmd.Arguments.Add(argument);
            CommonOptions.SetRun(cmd, config, (parse, c) =>
            {
                if (parse.GetValue(file) is { } f)
                    c.Cache.Path = CommonOptions.FullPath(f);
            }, run);
            return cmd;
        }
        var showDomain = new Argument<string>("domain");
        var purgeDomain = new Argument<string?>("domain") { Arity = ArgumentArity.ZeroOrOne };
        cache.Subcommands.Add(Sub("list", "What Postfix gets now for every cached domain, from where (cache, override, expired), expiry and hits",
            (_, s, ct) => ListAsync(s, false, Console.Out, Console.Error, ct)));
        cache.Subcommands.Add(Sub("show", "What Postfix gets now for one domain and why, beside a live resolution, with policy id change detection",
            (p, s, ct) => ShowAsync(s, p.GetValue(showDomain)!, Console.Out, Console.Error, ct), showDomain));
        cache.Subcommands.Add(Sub("purge", "Forget one domain, or everything",
            (p, s, ct) => PurgeAsync(s, p.GetValue(purgeDomain), Console.Out, Console.Error, ct), purgeDomain));
        cache.Subcommands.Add(Sub("export", "What Postfix gets now, in Postfix hash-table format (postmap hash:FILE)",
            (_, s, ct) => ListAsync(s, true, Console.Out, Console.Error, ct)));
        return cache;
    }

    public static async Task<int> ListAsync(Settings s, bool export, TextWriter o, TextWriter err, CancellationToken ct)
    {
        var items = await FetchAsync(s, null, err, ct);
        if (items is null)
            return ExitCodes.Failed;
        if (export)
        {
            // What Postfix gets now, so an expired entry is not pinned into a static table.
            o.WriteLine($"# Portcullis policies exported {TimeProvider.System.GetUtcNow():u}; build with: postmap hash:FILE");
            foreach (var i in items.Where(i => i.Reply?.StartsWith("OK ", StringComparison.Ordinal) == true))
                o.WriteLine($"{i.Domain}\t{i.Reply![3..]}");
            return ExitCodes.Ok;
        }
        o.WriteLine($"{"DOMAIN",-40} {"FROM",-8} {"POLICY",-8} {"EXPIRES (UTC)",-20} {"HITS",6}  POSTFIX GETS NOW (QUERY)");
        foreach (var i in items)
            o.WriteLine($"{i.Domain,-40} {i.State,-8} {i.Source,-8} {Time(i.Expires),-20} {i.Hits?.ToString() ?? "-",6}  {NowReply(i)}");
        o.WriteLine($"{items.Count} domain(s)");
        return ExitCodes.Ok;
    }

    public static async Task<int> ShowAsync(Settings s, string key, TextWriter o, TextWriter err, CancellationToken ct)
    {
        string? domain = ControlProtocol.NormalizeDomain(key);
        if (domain is null)
        {
            err.WriteLine($"portcullis: '{key}' is not a domain name");
            return ExitCodes.Usage;
        }
        var items = await FetchAsync(s, domain, err, ct);
        if (items is null)
            return ExitCodes.Failed;
        var cached = items.FirstOrDefault(i => i.Domain == domain);
        if (cached is null)
        {
            o.WriteLine($"Postfix gets now: nothing cached for {domain}: the next query resolves live");
        }
        else
        {
            o.WriteLine($"Postfix gets now: {NowReply(cached)}");
            o.WriteLine($"  from:          {cached.State}{(cached.State == CacheItem.FromOverride ? "" : $" (policy source {cached.Source})")}, " +
                $"{(cached.State == CacheItem.Expired ? "expired" : "expires")} {Time(cached.Expires)} UTC, {cached.Hits?.ToString() ?? "?"} hit(s)");
            o.WriteLine($"  why:           {cached.Reason}");
            if (cached.State != CacheItem.FromCache)
                o.WriteLine($"  cached entries say: {cached.Answer}");
        }

        o.WriteLine("Live resolution:");
        var live = await LiveResolution.ResolveAsync(s, domain, ct);
        var text = new StringWriter();
        live.WriteText(text);
        foreach (string line in Core.Text.TerminalText.EscapeLines(text.ToString()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            o.WriteLine("  " + line);
        string? liveId = live.LivePolicyId;
        if (cached?.PolicyId is { } cachedId)
            o.WriteLine(PolicyIdLine(cachedId, liveId));
        o.WriteLine(cached?.Reply is { } reply && reply == live.Query
            ? "Cached and live answers agree."
            : cached?.Reply is null
                ? $"Nothing answerable is cached: Postfix's next query gets the live answer ({live.Query})."
                : $"Cached and live answers DIFFER: Postfix gets {cached.Reply} until it expires; live says {live.Query}.");
        return QueryCommand.ExitFor(live.Resolution);
    }

    public static async Task<int> PurgeAsync(Settings s, string? key, TextWriter o, TextWriter err, CancellationToken ct)
    {
        string? domain = key is null ? null : ControlProtocol.NormalizeDomain(key);
        if (key is not null && domain is null)
        {
            err.WriteLine($"portcullis: '{key}' is not a domain name");
            return ExitCodes.Usage;
        }
        if (await ControlClient.AskAsync(s, ControlProtocol.PurgeCommand(domain), ct) is { } json)
        {
            o.WriteLine($"purged {JsonSerializer.Deserialize(json, ControlJson.Default.PurgeReply)?.Purged ?? 0} entries in the running daemon");
            return ExitCodes.Ok;
        }
        if (NoStore(s, "purge", err))
            return ExitCodes.Failed;
        err.WriteLine($"portcullis: no daemon answers on {ControlClient.Describe(s)}; purging the {StoreName(s)} directly");
        await using var store = s.OpenStore(NullLogger.Instance);
        o.WriteLine($"purged {await store.PurgeAsync(domain, ct)} entries from the {StoreName(s)}");
        return ExitCodes.Ok;
    }

    /// <summary>The store the commands would open without a daemon, for messages (no credentials).</summary>
    public static string StoreName(Settings s) => s.Cache switch
    {
        CacheBackend.Redis r => $"redis cache at {r.Configuration.Split(',')[0]} (prefix {r.KeyPrefix})",
        CacheBackend.Postgres p => $"postgres cache (tables {p.KeyPrefix}_*)",
        _ => $"sqlite cache {Path.GetFullPath(s.CachePath)}",
    };

    /// <summary>True (after saying so) when no daemon runs and the SQLite file does not exist: opening it would create an empty one.</summary>
    private static bool NoStore(Settings s, string what, TextWriter err)
    {
        if (s.Cache is not CacheBackend.Sqlite sqlite || File.Exists(sqlite.Path))
            return false;
        err.WriteLine($"portcullis: no daemon answers on {ControlClient.Describe(s)}, and the {StoreName(s)} does not exist: nothing to {what} " +
            "(pass the daemon's --config, and --cache if it uses one)");
        return true;
    }

    /// <summary>The cached policy id beside the one DNS announces now, compared as values (never read back from text).</summary>
    public static string PolicyIdLine(string cachedId, string? liveId) =>
        liveId is null ? $"Policy id:       cached {cachedId}; no valid TXT record now (the cached policy still applies until it expires)"
        : liveId == cachedId ? $"Policy id:       unchanged ({cachedId})"
        : $"Policy id:       CHANGED: cached {cachedId}, DNS now says {liveId}; the next lookup re-fetches the policy";

    private static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") ?? "-";

    private static string NowReply(CacheItem i) => i.Reply ?? "live lookup on the next query (cached state expired)";

    private static async Task<IReadOnlyList<CacheItem>?> FetchAsync(Settings s, string? domain, TextWriter err, CancellationToken ct)
    {
        if (await ControlClient.ItemsAsync(s, domain is null ? ControlProtocol.List : ControlProtocol.ShowCommand(domain), ct) is { } items)
            return items;
        if (NoStore(s, domain is null ? "list" : "show", err))
            return null;
        err.WriteLine($"portcullis: no daemon answers on {ControlClient.Describe(s)}; reading the {StoreName(s)} directly");
        await using var store = s.OpenStore(NullLogger.Instance);
        var now = TimeProvider.System.GetUtcNow();
        var all = CacheItem.WithOverrides(CacheItem.Join(await store.ListDaneAsync(ct), await store.ListAsync(ct), new StsEngine(s.Sts), s.Render,
            now, _ => null), s.Overrides, now);
        return domain is null ? all : [.. all.Where(i => i.Domain == domain)];
    }
}
