using Portcullis.Configuration;
using Portcullis.Core.Publishing;
using Portcullis.Core.Rollout;
using Portcullis.Storage;

namespace Portcullis.Publishing;

/// <summary>
/// The policy each own domain serves now: its publish.domains entry, with mode and max_age from the rollout
/// state once `rollout` has changed them. policy-host asks on every request; the state file is re-read only
/// when its time stamp or size changes, so a rollout takes effect at the next request, without a reload.
/// </summary>
public sealed class ServedPolicies(Settings settings)
{
    private readonly RolloutStateStore _store = new(settings.DataDir);
    private readonly IReadOnlyDictionary<string, (PublishedPolicy Policy, PublishedDomainConfig Config)> _domains = settings.PublishedDomains;
    private readonly Dictionary<string, (DateTime Stamp, long Length, RolloutState? State)> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public RolloutStateStore Store => _store;

    /// <summary>The configured policy of <paramref name="domain"/> (an A-label key of publish.domains) with a rollout's settings applied.</summary>
    public static PublishedPolicy Apply(PublishedPolicy configured, RolloutState? state) =>
        state is null ? configured : configured with { Mode = state.Served.Mode, MaxAge = state.Served.MaxAge };

    public PublishedPolicy? Get(string domain)
    {
        if (!_domains.TryGetValue(domain, out var d))
            return null;
        return Apply(d.Policy, State(domain));
    }

    private RolloutState? State(string domain)
    {
        var file = new FileInfo(_store.PathOf(domain));
        lock (_lock)
        {
            var stamp = file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1L);
            if (_seen.TryGetValue(domain, out var seen) && seen.Stamp == stamp.Item1 && seen.Length == stamp.Item2)
                return seen.State;
            try
            {
                var state = _store.Load(domain);
                _seen[domain] = (stamp.Item1, stamp.Item2, state);
                return state;
            }
            catch (StartupException)
            {
                // Unreadable now (being replaced, or damaged): keep serving what was served.
                return seen.State;
            }
        }
    }
}
