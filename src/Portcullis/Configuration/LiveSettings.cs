using Microsoft.Extensions.Logging;
using Portcullis.Core.Policy;

namespace Portcullis.Configuration;

/// <summary>
/// The parts of the configuration that SIGHUP reloads without a restart: overrides, maps and
/// answer rendering. Listeners, resolver and cache keep their start-up values.
/// </summary>
public sealed class LiveSettings(Settings initial, string? path, ILogger<LiveSettings> log)
{
    public sealed record Snapshot(IReadOnlyDictionary<string, MapOptions> Maps,
        IReadOnlyDictionary<string, StaticOverride> Overrides, RenderOptions Render)
    {
        public static Snapshot From(Settings s) => new(s.Maps, s.Overrides, s.Render);

        // Span-keyed views for the hot path, which looks names up without allocating strings.
        private readonly Dictionary<string, MapOptions> _maps = new(Maps, StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, StaticOverride> _overrides = new(Overrides, StringComparer.Ordinal);

        public Dictionary<string, MapOptions>.AlternateLookup<ReadOnlySpan<char>> MapsBySpan =>
            _maps.GetAlternateLookup<ReadOnlySpan<char>>();

        public Dictionary<string, StaticOverride>.AlternateLookup<ReadOnlySpan<char>> OverridesBySpan =>
            _overrides.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private volatile Snapshot _current = Snapshot.From(initial);

    public Snapshot Current => _current;

    /// <summary>Re-reads the file; on any error the running configuration stays as it is.</summary>
    public bool Reload()
    {
        if (path is null)
        {
            log.LogWarning("SIGHUP: no --config file was given; nothing to reload");
            return false;
        }
        try
        {
            var next = new Settings(ConfigLoader.Load(path));
            _current = Snapshot.From(next);
            log.LogInformation("SIGHUP: reloaded {Path}: {Overrides} override(s), {Maps} map name(s)",
                path, next.Config.Overrides.Count, _current.Maps.Count);
            return true;
        }
        catch (ConfigException ex)
        {
            log.LogError("SIGHUP: {Path} not reloaded, keeping the running configuration: {Error}", path, ex.Message);
            return false;
        }
    }
}
