namespace Portcullis.Core.Dane;

/// <summary>A cached DANE verdict; kept for the minimum TTL of the records it rests on.</summary>
public sealed record DaneCacheEntry(string Domain, DaneVerdict Verdict, string Reason, bool MxSecure, DateTimeOffset ExpiresAt)
{
    /// <summary>When the verdict was computed; a shared cache never replaces a newer entry with an older one.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    public DaneResult ToResult(DateTimeOffset now) =>
        new(Verdict, Reason, ExpiresAt - now) { MxSecure = MxSecure };

    public static DaneCacheEntry? From(string domain, DaneResult result, DateTimeOffset now) =>
        result.Verdict == DaneVerdict.Temp ? null
            : new(domain, result.Verdict, result.Reason, result.MxSecure, now + result.Ttl) { UpdatedAt = now };
}
