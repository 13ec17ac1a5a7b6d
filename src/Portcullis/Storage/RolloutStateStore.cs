using System.Text.Json;
using System.Text.Json.Serialization;
using Portcullis.Core.Rollout;

namespace Portcullis.Storage;

/// <summary>
/// Each own domain's rollout state as a small JSON file, DATA_DIR/rollout/DOMAIN.json, replaced atomically
/// (written beside it, flushed, renamed), so a crash leaves the old state or the new one, never half of one.
/// policy-host reads the same file to learn which policy to serve (see <see cref="Publishing.ServedPolicies"/>).
/// </summary>
public sealed class RolloutStateStore(string dataDir)
{
    public string Directory { get; } = Path.Combine(dataDir, "rollout");

    public string PathOf(string domain) => Path.Combine(Directory, domain + ".json");

    /// <summary>The saved state; null when the domain never had a rollout. A file that cannot be read throws
    /// <see cref="Configuration.StartupException"/> (a one-line error naming it).</summary>
    public RolloutState? Load(string domain)
    {
        string path = PathOf(domain);
        try
        {
            if (!File.Exists(path))
                return null;
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RolloutJson.Default.RolloutState)
                ?? throw new JsonException("empty document");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            throw new Configuration.StartupException($"cannot read the rollout state {path}: {ex.Message}", ExitCodes.IoError);
        }
    }

    public void Save(string domain, RolloutState state)
    {
        string path = PathOf(domain);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            string temp = path + ".new";
            using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(f, state, RolloutJson.Default.RolloutState);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new Configuration.StartupException($"cannot write the rollout state {path}: {ex.Message}",
                ex is UnauthorizedAccessException ? ExitCodes.NoPermission : ExitCodes.IoError);
        }
    }
}

/// <summary>Generated at build time (no reflection, AOT-safe); enums as their names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(RolloutState))]
internal sealed partial class RolloutJson : JsonSerializerContext;
