using System.Net;
using Portcullis.Configuration;
using Portcullis.Core.Publishing;
using Portcullis.Core.Rollout;
using Portcullis.Dns;
using Portcullis.Net;
using Portcullis.Storage;

namespace Portcullis.Publishing;

/// <summary>
/// One own domain as `rollout` and `rollout status` see it: its configured policy, its rollout state, its zone's
/// primary and authoritative servers. Built only from a valid request: a domain not in publish.domains or a zone
/// whose primary is unknown is a one-line error (<see cref="StartupException"/>) before anything is changed.
/// </summary>
public sealed class RolloutTarget
{
    public required string Domain { get; init; }
    public required PublishedPolicy Configured { get; init; }
    public required PublishedDomainConfig Config { get; init; }
    public required RolloutStateStore Store { get; init; }
    public required string Zone { get; init; }
    public IPEndPoint? Primary { get; init; }
    public TimeSpan Timeout => TimeSpan.FromMilliseconds(Config.DnsUpdate.TimeoutMs);

    public static RolloutTarget Open(Settings settings, string key)
    {
        var hop = Core.Protocol.NextHopParser.Parse(key);
        if (hop.Kind != Core.Protocol.NextHopKind.Domain || !settings.PublishedDomains.TryGetValue(hop.Domain, out var d))
            throw new StartupException($"{key} is not in publish.domains of the configuration; nothing changed", ExitCodes.Usage);
        var u = d.Config.DnsUpdate;
        string zone = (u.Zone.Length > 0 ? u.Zone : hop.Domain).TrimEnd('.').ToLowerInvariant();
        IPEndPoint? primary = u.Server.Length > 0 && ResolvConf.TryParseEndpoint(u.Server, 53, out var ep) ? ep : null;
        return new RolloutTarget
        {
            Domain = hop.Domain, Configured = d.Policy, Config = d.Config, Store = new RolloutStateStore(settings.DataDir), Zone = zone, Primary = primary,
        };
    }

    /// <summary>The primary and its key, or why a DNS update cannot be sent (nothing has been changed yet).</summary>
    public DnsUpdate Updater()
    {
        string at = $"publish.domains.{Domain}.dns_update";
        if (Primary is null)
            throw new StartupException($"{at}.server is not set: the primary of zone {Zone} is unknown; nothing changed", ExitCodes.Config);
        string key = Config.DnsUpdate.TsigKeyFile;
        if (key.Length == 0)
            throw new StartupException($"{at}.tsig_key_file is not set: updates of zone {Zone} must be signed (TSIG); nothing changed", ExitCodes.Config);
        try
        {
            using (File.OpenRead(key))
            {
                // readable: nsupdate will read it
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{at}.tsig_key_file: cannot read {key}: {ex.Message}; nothing changed", ExitCodes.NoInput);
        }
        return new DnsUpdate(Primary, Zone, key, Config.DnsUpdate.Ttl, Timeout);
    }

    public string IdOf(PolicySettings s) => (Configured with { Mode = s.Mode, MaxAge = s.MaxAge }).Id;

    public PublishedPolicy PolicyOf(PolicySettings s) => Configured with { Mode = s.Mode, MaxAge = s.MaxAge };

    /// <summary>The saved state, or for a domain never rolled out: the configured policy served, and the id the primary
    /// answers now as the published one (null when it cannot be asked).</summary>
    public async Task<RolloutState> StateAsync(CancellationToken ct)
    {
        if (Store.Load(Domain) is { } saved)
            return saved;
        string? published = Primary is null ? null : (await DnsUpdate.AskAsync(Primary, Domain, Timeout, ct)).Id;
        return new RolloutState(new PolicySettings(Configured.Mode, Configured.MaxAge), published, null);
    }

    /// <summary>The authoritative servers to verify: dns_update.verify, else the addresses of the zone's NS set.</summary>
    public async Task<(IReadOnlyList<IPEndPoint> Servers, string? Error)> AuthoritativeAsync(Settings settings, CancellationToken ct)
    {
        if (Config.DnsUpdate.Verify.Count > 0)
            return ([.. Config.DnsUpdate.Verify.Select(v => ResolvConf.TryParseEndpoint(v, 53, out var e) ? e : throw new InvalidOperationException(v))], null);
        return await DnsUpdate.NameServersAsync(settings.DnsServer, Zone, Timeout, ct);
    }
}
