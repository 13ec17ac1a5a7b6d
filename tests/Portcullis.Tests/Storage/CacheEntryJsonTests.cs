using System.Text.Json;
using System.Text.Json.Serialization;
using Portcullis.Storage;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Xunit;

namespace Portcullis.Tests.Storage;

/// <summary>
/// The stored JSON comes from a source-generated context (AOT-safe). Caches written by earlier
/// versions used the reflection serializer: the bytes must be the same both ways.
/// </summary>
public sealed class CacheEntryJsonTests
{
    private static readonly JsonSerializerOptions Reflection = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    private static readonly DateTimeOffset T = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<StsCacheEntry> StsEntries => new()
    {
        new StsCacheEntry { Domain = "a.test", RecheckAt = T, UpdatedAt = T, Reason = "no record" },
        new StsCacheEntry
        {
            Domain = "b.test", Policy = new StsPolicy(StsMode.Enforce, 86400, ["mx.b.test", ".b.test"], ["version: STSv1", "mode: enforce"]),
            PolicyId = "20261201", FetchedAt = T, PolicyExpiresAt = T.AddDays(1), TxtRecord = "v=STSv1; id=20261201", TxtId = "20261201",
            RecheckAt = T.AddHours(1), FailedId = "x", FailedAt = T, FailureType = Portcullis.Core.Policy.StsFailureType.WebPkiInvalid, FailureDetail = "bad",
            UpdatedAt = T, Reason = "policy",
        },
    };

    [Theory]
    [MemberData(nameof(StsEntries))]
    public void Sts_entries_are_written_as_the_reflection_serializer_wrote_them_and_read_back(StsCacheEntry entry)
    {
        string json = CacheEntryJson.Serialize(entry);
        Assert.Equal(JsonSerializer.Serialize(entry, Reflection), json);
        var back = CacheEntryJson.Deserialize(json)!;
        Assert.Equal(CacheEntryJson.Serialize(back), json);
        Assert.Equal(entry.Policy?.MxPatterns, back.Policy?.MxPatterns);
    }

    [Theory]
    [InlineData(DaneVerdict.DaneOnly, true)]
    [InlineData(DaneVerdict.None, false)]
    [InlineData(DaneVerdict.NullMx, false)]
    public void Dane_entries_are_written_as_the_reflection_serializer_wrote_them_and_read_back(DaneVerdict verdict, bool mxSecure)
    {
        var entry = new DaneCacheEntry("c.test", verdict, "why", mxSecure, T.AddHours(2)) { UpdatedAt = T };
        string json = CacheEntryJson.Serialize(entry);
        Assert.Equal(JsonSerializer.Serialize(entry, Reflection), json);
        Assert.Equal(entry, CacheEntryJson.DeserializeDane(json));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"Domain\":5}")]
    [InlineData("[]")]
    public void Unreadable_data_is_a_miss(string json)
    {
        Assert.Null(CacheEntryJson.DeserializeDane(json));
        Assert.Null(CacheEntryJson.Deserialize(json));
    }
}
