using System.Collections.Concurrent;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Resolution;

/// <summary>
/// Most cached domains share a handful of reasons ("no MTA-STS TXT record: no TXT records"), each built as
/// a new string: memory keeps one copy. Reasons naming the domain are its own; the pool is bounded.
/// </summary>
public sealed class ReasonPool
{
    public const int MaxShared = 4096;
    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);

    public StsCacheEntry Share(StsCacheEntry e) =>
        Shared(e.Domain, e.Reason) is { } r && !ReferenceEquals(r, e.Reason) ? e with { Reason = r } : e;

    public DaneCacheEntry Share(DaneCacheEntry e) =>
        Shared(e.Domain, e.Reason) is { } r && !ReferenceEquals(r, e.Reason) ? e with { Reason = r } : e;

    private string? Shared(string domain, string reason)
    {
        if (reason.Contains(domain, StringComparison.Ordinal))
            return null;
        if (_reasons.TryGetValue(reason, out var shared))
            return shared;
        return _reasons.Count < MaxShared ? _reasons.GetOrAdd(reason, reason) : null;
    }
}
