using Portcullis.Core.Caching;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Resolution;

namespace Portcullis.Hosting.Socketmap;

/// <summary>
/// Socketmap replies rendered once per cached entry and map variant, reused as wire bytes until the entry is
/// replaced or its answer may change: the allocation-free hot path. Kept in each domain's memory entry.
/// </summary>
public sealed class ReplyCache(PolicyMemory memory, StsEngine engine, TimeProvider time)
{
    /// <summary>Variants kept per domain (map names times rendering options: a few in practice).</summary>
    public const int MaxVariants = 4;

    /// <summary>An encoded reply for one map variant, valid while memory holds the entries it was rendered from.</summary>
    public sealed class CachedReply(DaneCacheEntry dane, StsCacheEntry? sts, object map, object render, long untilTicks,
        byte[] frame, string answer)
    {
        internal readonly DaneCacheEntry Dane = dane;
        internal readonly StsCacheEntry? Sts = sts;
        internal readonly object Map = map, Render = render;
        internal readonly long UntilTicks = untilTicks;
        internal CachedReply? Next;
        /// <summary>The whole netstring, ready to write.</summary>
        public byte[] Frame { get; } = frame;
        /// <summary>The answer kind for metrics.</summary>
        public string Answer { get; } = answer;
    }

    /// <summary>
    /// When memory can answer <paramref name="domain"/>, the reply rendered by <paramref name="encode"/> for this
    /// map variant. Counts the query like <see cref="PolicyResolver.ResolveAsync"/>.
    /// </summary>
    public CachedReply? TryGet<TMap, TRender>(ReadOnlySpan<char> domain, TMap map, TRender render,
        Func<Resolution.Resolution, TMap, TRender, (byte[] Frame, string Answer)> encode)
        where TMap : class where TRender : class
    {
        var now = time.GetUtcNow();
        if (!memory.TryAnswerable(domain, now, out var m))
            return null;
        var reply = Find(m, map, render, now) ?? Render(m, map, render, now, encode);
        PolicyMemory.Count(m.Entry, now);
        return reply;
    }

    private static CachedReply? Find(MemoryAnswer m, object map, object render, DateTimeOffset now)
    {
        for (var r = Volatile.Read(ref m.Entry.Rendered) as CachedReply; r is not null; r = r.Next)
        {
            // Identity, not record equality: a replaced entry is a new object.
            if (ReferenceEquals(r.Dane, m.Dane) && ReferenceEquals(r.Sts, m.Sts) && ReferenceEquals(r.Map, map)
                && ReferenceEquals(r.Render, render) && now.UtcTicks < r.UntilTicks)
                return r;
        }
        return null;
    }

    private CachedReply Render<TMap, TRender>(MemoryAnswer m, TMap map, TRender render, DateTimeOffset now,
        Func<Resolution.Resolution, TMap, TRender, (byte[] Frame, string Answer)> encode)
        where TMap : class where TRender : class
    {
        var (frame, answer) = encode(m.ToResolution(engine, now), map, render);
        var reply = new CachedReply(m.Dane, m.Sts, map, render, Freshness.AnswerStableUntil(m.Dane, m.Sts, now).UtcTicks, frame, answer);
        PolicyMemory.SetRendered(m.Entry, reply, static (current, reply) =>
        {
            // Keep the other variants rendered from the same entries; drop stale ones.
            var head = current as CachedReply;
            int length = 0;
            for (var r = head; r is not null; r = r.Next)
                length++;
            if (head is not null && ReferenceEquals(head.Dane, reply.Dane) && ReferenceEquals(head.Sts, reply.Sts) && length < MaxVariants)
                reply.Next = head;
            return reply;
        });
        return reply;
    }
}
