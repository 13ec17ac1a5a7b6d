using System.Runtime.CompilerServices;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portcullis.Configuration;

/// <summary>
/// Reads the YAML file into a <see cref="PortcullisConfig"/> without stopping at the first problem:
/// every wrong-typed value and unknown key is collected as <c>file:line: key: …</c>, and where each
/// key sits is remembered so later validation errors can name their line too. YamlDotNet only parses;
/// <see cref="ConfigSchema"/> binds the nodes with typed setters (no reflection, so Native AOT works).
/// </summary>
internal static class ConfigReader
{
    /// <summary>Where each key (dotted path) of a loaded file is, and which keys the command line replaced.</summary>
    internal sealed record Source(string Path, IReadOnlyDictionary<string, int> KeyLines, IReadOnlyList<(int Line, string Key, string Text)> ReadErrors)
    {
        public HashSet<string> Overridden { get; } = [];
    }

    internal static readonly ConditionalWeakTable<PortcullisConfig, Source> Sources = [];

    public static PortcullisConfig Read(string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"{path}:{ex.Start.Line}:{ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}");
        }
        if (stream.Documents.Count > 1)
            throw new ConfigException($"{path}:{stream.Documents[1].RootNode.Start.Line}: a second YAML document (after '---') is not supported; put all keys in one");

        var config = new PortcullisConfig();
        var keyLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var cx = new BindContext(path);
        if (stream.Documents.Count == 1)
        {
            var root = stream.Documents[0].RootNode;
            Walk(root, "", keyLines);
            ConfigSchema.Root.Read(config, root, "", cx); // null or empty document: the defaults
        }
        // Type errors and unknown keys are reported by Validate, together with the rule violations.
        Sources.AddOrUpdate(config, new Source(path, keyLines, [.. cx.Errors.OrderBy(e => e.Line)]));
        return config;
    }

    private static void Walk(YamlNode node, string prefix, Dictionary<string, int> keyLines)
    {
        if (node is not YamlMappingNode map)
            return;
        foreach (var (k, v) in map.Children)
        {
            string key = prefix.Length == 0 ? k.ToString() : prefix + "." + k;
            keyLines[key] = (int)k.Start.Line;
            Walk(v, key, keyLines);
        }
    }
}
