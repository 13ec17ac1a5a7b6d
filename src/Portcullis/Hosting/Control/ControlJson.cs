using System.Text.Json.Serialization;
using Portcullis.Core.Caching;
using Portcullis.Configuration;

namespace Portcullis.Hosting.Control;

/// <summary>Reply of <c>purge</c> on the control socket.</summary>
public sealed record PurgeReply(int Purged);

/// <summary>Reply to a command the control socket does not know.</summary>
public sealed record ErrorReply(string Error);

/// <summary>Source-generated (reflection-free) JSON for the control socket, used by both ends.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(List<CacheItem>))]
[JsonSerializable(typeof(PurgeReply))]
[JsonSerializable(typeof(ErrorReply))]
public sealed partial class ControlJson : JsonSerializerContext;
