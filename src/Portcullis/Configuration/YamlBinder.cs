using YamlDotNet.RepresentationModel;

namespace Portcullis.Configuration;

/// <summary>Where a file is being read from, and every problem found so far (reading never stops at the first).</summary>
internal sealed class BindContext(string path)
{
    public List<(int Line, string Key, string Text)> Errors { get; } = [];

    public void Wrong(YamlNode at, string key, string expected) =>
        Add(at, key, $"{path}:{at.Start.Line}: {(key.Length > 0 ? key + ": " : "")}expected {expected}, got {Got(at)}");

    public void Unknown(YamlNode keyNode, string key) => Add(keyNode, key, $"{path}:{keyNode.Start.Line}: unknown key '{key}'");

    private void Add(YamlNode at, string key, string text) => Errors.Add(((int)at.Start.Line, key, text));

    private static string Got(YamlNode n) => n switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"\"{s.Value}\"",
        _ => "an alias",
    };
}

/// <summary>Reads one key's value (at dotted path <c>key</c>) into a <typeparamref name="T"/>.</summary>
internal delegate void Bind<in T>(T target, YamlNode value, string key, BindContext cx);

/// <summary>A section's schema: its snake_case keys, each with the setter that reads it (and, for nested
/// sections, their schema). Reading it is reading the configuration file's format.</summary>
internal interface ISection
{
    /// <summary>The dotted paths of every key under this section; a dictionary entry is written <c>*</c>.</summary>
    IEnumerable<string> Paths(string prefix);
}

/// <summary>One key of a section: how its value is read, and the section below it if it has one.</summary>
internal sealed record Field<T>(Bind<T> Read, ISection? Below = null, bool IsDictionary = false);

/// <summary>The keys of a mapping of type <typeparamref name="T"/>; filled with a collection initializer.</summary>
internal sealed class Section<T> : ISection, System.Collections.IEnumerable
{
    private readonly Dictionary<string, Field<T>> _fields = new(StringComparer.Ordinal);

    public void Add(string key, Field<T> field) => _fields.Add(key, field);

    public System.Collections.IEnumerator GetEnumerator() => _fields.Keys.GetEnumerator();

    public IEnumerable<string> Paths(string prefix)
    {
        foreach (var (key, field) in _fields)
        {
            string path = YamlValues.Join(prefix, key);
            yield return path;
            if (field.Below is { } below)
            {
                foreach (string p in below.Paths(field.IsDictionary ? path + ".*" : path))
                    yield return p;
            }
        }
    }

    /// <summary>Reads a mapping into <paramref name="target"/>: known keys set their value, others are reported.
    /// An empty value (<c>dns:</c>) leaves the defaults; a value that is no mapping is reported (false).</summary>
    public bool Read(T target, YamlNode node, string path, BindContext cx)
    {
        if (YamlValues.IsNull(node))
            return true;
        if (node is not YamlMappingNode map)
        {
            cx.Wrong(node, path, YamlValues.Mapping);
            return false;
        }
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } name })
            {
                cx.Wrong(k, path, YamlValues.Text); // a list or mapping as a key
                continue;
            }
            string key = YamlValues.Join(path, name);
            if (_fields.TryGetValue(name, out var field))
                field.Read(target, v, key, cx);
            else
                cx.Unknown(k, key);
        }
        return true;
    }
}
