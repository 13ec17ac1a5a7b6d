using System.Text.Json;
using System.Text.Json.Serialization;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Cache;

/// <summary>The stored form of a cache entry: JSON, so every backend stores the same bytes.</summary>
public static class CacheEntryJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize(StsCacheEntry entry) => JsonSerializer.Serialize(entry, Options);

    public static string Serialize(DaneCacheEntry entry) => JsonSerializer.Serialize(entry, Options);

    public static DaneCacheEntry? DeserializeDane(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<DaneCacheEntry>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Null for unreadable data (e.g. written by an incompatible version): treated as a miss.</summary>
    public static StsCacheEntry? Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<StsCacheEntry>(json, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
