using System.Text.Json;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Storage.Sessions;

/// <summary>Generated at build time (no reflection, AOT-safe), with the web defaults the rows were first written with.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SessionPolicy))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SessionFailure))]
internal sealed partial class SessionJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
