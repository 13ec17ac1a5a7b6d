using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;

namespace Portcullis.Storage;

/// <summary>The stored form of a cache entry: JSON, so every backend stores the same bytes.</summary>
public static class CacheEntryJson
{
    public static string Serialize(StsCacheEntry entry) => JsonSerializer.Serialize(entry, CacheJsonContext.Default.StsCacheEntry);

    public static string Serialize(DaneCacheEntry entry) => JsonSerializer.Serialize(entry, CacheJsonContext.Default.DaneCacheEntry);

    /// <summary>Null for unreadable data (e.g. written by an incompatible version): treated as a miss.</summary>
    public static StsCacheEntry? Deserialize(string json) => Read(json, CacheJsonContext.Default.StsCacheEntry);

    public static DaneCacheEntry? DeserializeDane(string json) => Read(json, CacheJsonContext.Default.DaneCacheEntry);

    private static T? Read<T>(string json, JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Generated at build time (no reflection, AOT-safe); enums as names, nulls omitted.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StsCacheEntry))]
[JsonSerializable(typeof(DaneCacheEntry))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
